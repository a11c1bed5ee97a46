"""FedProto math (Tan et al., AAAI'22), pure functions.

Glossary: f = base features [B, K]; P = global prototype table [C, K]; mask = which classes have one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fedloom.algorithms.prototypes import class_means, class_sums, present_means


def average_prototypes(
    labels: torch.Tensor, prototypes: torch.Tensor, num_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Global prototypes: the unweighted mean over clients of their class prototypes (FedProto eq. 6).

    `labels` [N] and `prototypes` [N, K] hold every uploaded (client, class) pair. Returns the present
    classes [n] and their mean prototypes [n, K].
    """
    return class_means(prototypes, labels, num_classes)


def count_weighted_prototypes(
    labels: torch.Tensor, prototypes: torch.Tensor, counts: torch.Tensor, num_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Global prototypes from private uploads: per class, sum_i n_i p_i / sum_i n_i with the uploads' noisy
    counts n_i, i.e. every client's noisy sum over all their noisy counts. The unweighted mean would let the
    noisiest uploads (fewest samples, noise / n largest) count as much as the rest; this estimator's noise
    shrinks with the class's total count instead. Arguments as `average_prototypes`, plus counts [N] > 0."""
    weights = counts.to(prototypes.dtype)
    sums, _ = class_sums(prototypes * weights.unsqueeze(1), labels, num_classes)
    totals = torch.zeros(num_classes, dtype=weights.dtype).index_add_(0, labels, weights)
    return present_means(sums, totals)


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
