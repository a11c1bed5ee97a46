"""FedProto math (Tan et al., AAAI'22), pure functions.

Glossary: f = base features [B, K]; P = global prototype table [C, K]; mask = which classes have one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fedloom.algorithms.prototypes import class_means


def average_prototypes(
    labels: torch.Tensor, prototypes: torch.Tensor, num_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Global prototypes: the unweighted mean over clients of their class prototypes (FedProto eq. 6).

    `labels` [N] and `prototypes` [N, K] hold every uploaded (client, class) pair. Returns the present
    classes [n] and their mean prototypes [n, K].
    """
    return class_means(prototypes, labels, num_classes)


def prototype_regulariser(
    features: torch.Tensor, labels: torch.Tensor, table: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """MSE(f, P[y]) over the whole batch, where samples of classes without a prototype count as zero.

    This is FedProto's regulariser (eq. 8) in HtFLlib's form: sum_i mask[y_i] ||f_i - P[y_i]||^2 / (B K).
    `mask` None: every class has a prototype (then it is plain MSE, one fused operation).
    """
    targets = table[labels]
    if mask is None:
        return F.mse_loss(features, targets)
    has = mask[labels].unsqueeze(1).to(features.dtype)
    return ((features - targets) * has).pow(2).sum() / features.numel()


def nearest_prototype(features: torch.Tensor, table: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Predicted class = the nearest present prototype in Euclidean (equivalently MSE) distance."""
    dist = torch.cdist(features, table)
    if mask is not None:
        dist = dist.masked_fill(~mask.unsqueeze(0), float("inf"))
    return dist.argmin(dim=1)


def complete_or_mask(mask: torch.Tensor) -> torch.Tensor | None:
    """None when every class is present (the fast path of the functions above), else the mask."""
    return None if bool(mask.all()) else mask
