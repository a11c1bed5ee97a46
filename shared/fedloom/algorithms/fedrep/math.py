"""FedRep math (Collins et al., "Exploiting Shared Representations for Personalized Federated Learning",
ICML 2021, Algorithm 1), pure functions.

Each round a client first updates its head h_i with the representation phi fixed (the head phase,
"h_i <- GRD(f_i(h_i, phi), h_i, alpha)"), then the representation with its head fixed (the representation
phase, "phi_i <- GRD(f_i(h_i, phi_i), phi_i, alpha)"); the server averages the phi_i (FedAvg's weights).
f_i is cross-entropy here, as in PFLlib. The two functions give the logits each phase differentiates.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def head_phase_logits(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """h(phi(x)) with phi(x) held fixed: gradients reach the head's weight and bias, never the features."""
    return F.linear(features.detach(), weight, bias)


def representation_phase_logits(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """h(phi(x)) with h held fixed: gradients reach the features (so the base), never the head."""
    return F.linear(features, weight.detach(), bias.detach())
