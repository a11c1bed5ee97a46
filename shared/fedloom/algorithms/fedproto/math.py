"""FedProto math (Tan et al., AAAI'22), pure functions.

Glossary: f = base features [B, K]; P = global prototype table [C, K]; mask = which classes have one.
"""

from __future__ import annotations

import torch


def average_prototypes(
    labels: torch.Tensor, prototypes: torch.Tensor, num_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Global prototypes: the unweighted mean over clients of their class prototypes (FedProto eq. 6).

    `labels` [N] and `prototypes` [N, K] hold every uploaded (client, class) pair. Returns the present
    classes [n] and their mean prototypes [n, K].
    """
    sums = torch.zeros(num_classes, prototypes.shape[1], dtype=prototypes.dtype)
    sums.index_add_(0, labels, prototypes)
    counts = torch.bincount(labels, minlength=num_classes)
    present = torch.nonzero(counts).flatten()
    return present, sums[present] / counts[present].unsqueeze(1).to(prototypes.dtype)


def prototype_regulariser(
    features: torch.Tensor, labels: torch.Tensor, table: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """MSE(f, P[y]) over the whole batch, where samples of classes without a prototype count as zero.

    This is FedProto's regulariser (eq. 8) in HtFLlib's form: sum_i mask[y_i] ||f_i - P[y_i]||^2 / (B K).
    """
    has = mask[labels].unsqueeze(1).to(features.dtype)
    diff = (features - table[labels]) * has
    return diff.pow(2).sum() / features.numel()


def nearest_prototype(features: torch.Tensor, table: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Predicted class = the nearest present prototype in Euclidean (equivalently MSE) distance."""
    dist = torch.cdist(features, table).masked_fill(~mask.unsqueeze(0), float("inf"))
    return dist.argmin(dim=1)
