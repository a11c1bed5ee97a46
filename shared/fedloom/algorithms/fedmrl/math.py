"""FedMRL math (Yi et al., "Federated Model Heterogeneous Matryoshka Representation Learning", NeurIPS'24).

Glossary: f = the client's own features [B, K]; f_g = the shared small model's features [B, d] (d <= K);
proj = the client's local projection Linear(d + K, K); r = the fused representation [B, K].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def fuse(f_g: torch.Tensor, f: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """r = proj([f_g, f]): the two representations concatenated, then projected to K (paper eq. 3)."""
    return F.linear(torch.cat([f_g, f], dim=1), weight, bias)


def matryoshka_loss(logits: torch.Tensor, shared_logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """CE(head(r), y) + CE(head_g(r[:, :d]), y): both heads learn from nested slices of r (paper eqs. 4-6)."""
    return F.cross_entropy(logits, y) + F.cross_entropy(shared_logits, y)
