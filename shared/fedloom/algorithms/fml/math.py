"""FML math (Shen et al., "Federated Mutual Learning", 2020), pure functions.

Glossary: `out` = the local model's logits [B, C], `out_g` = the shared (meme) model's logits [B, C].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def distillation_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """KL(p_teacher || p_student), averaged over the batch (`batchmean`, not over B x C elements).

    The teacher's distribution is detached: each model learns from its peer, not the peer from it
    (HtFLlib let gradients cross, algorithms.md 7).
    """
    log_p = F.log_softmax(student_logits, dim=1)
    q = F.softmax(teacher_logits.detach(), dim=1)
    return F.kl_div(log_p, q, reduction="batchmean")


def mutual_losses(
    out: torch.Tensor, out_g: torch.Tensor, y: torch.Tensor, alpha: float, beta: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """FML eqs. 1-2: L_local = a CE(out, y) + (1 - a) KL(p_g || p); L_meme = b CE(out_g, y) + (1 - b) KL(p || p_g)."""
    local = alpha * F.cross_entropy(out, y) + (1 - alpha) * distillation_kl(out, out_g)
    meme = beta * F.cross_entropy(out_g, y) + (1 - beta) * distillation_kl(out_g, out)
    return local, meme
