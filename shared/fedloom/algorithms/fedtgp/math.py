"""FedTGP math (Zhang et al., AAAI'24), pure functions.

Glossary: Q = per-class average of uploaded prototypes [C, K]; P_hat = trainable global prototypes
[C, K]; delta = adaptive margin; tau = margin threshold.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fedloom.models.step_linear import StepLinear


def class_margin(averages: torch.Tensor, present: torch.Tensor, threshold: float) -> float:
    """Adaptive margin delta = min(max_c min_{c' != c} ||Q^c - Q^{c'}||, tau) over present classes.

    This is the released code's version of the paper's margin (algorithms.md 1.10). With fewer than two
    present classes no distance exists and the threshold is returned.
    """
    q = averages[present]
    if q.shape[0] < 2:
        return float(threshold)
    dist = torch.cdist(q, q).fill_diagonal_(float("inf"))
    nearest_other = dist.min(dim=1).values
    return float(min(float(nearest_other.max()), threshold))


def pairwise_distance(x: torch.Tensor, centres: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Euclidean distances [n, C] from the expansion ||x||^2 + ||c||^2 - 2 x.c, clamped before sqrt.

    The clamp keeps rounding from producing sqrt of a negative number (NaN) or an infinite gradient at 0.
    """
    sq = x.pow(2).sum(1, keepdim=True) + centres.pow(2).sum(1).unsqueeze(0) - 2 * x @ centres.T
    return sq.clamp_min(eps).sqrt()


def acl_loss(prototypes: torch.Tensor, labels: torch.Tensor, centres: torch.Tensor, margin: float) -> torch.Tensor:
    """Adaptive-margin contrastive loss (FedTGP eq. 5): CE over logits -(d_j + delta * 1[j = y])."""
    dist = pairwise_distance(prototypes, centres)
    logits = -(dist + margin * F.one_hot(labels, centres.shape[0]).to(dist.dtype))
    return F.cross_entropy(logits, labels)


class PrototypeGenerator(nn.Module):
    """TGP: Embedding(C, K) -> Linear(K, K) -> ReLU -> Linear(K, K); row c is class c's global prototype."""

    def __init__(self, num_classes: int, feature_dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_classes, feature_dim)
        self.mlp = nn.Sequential(StepLinear(feature_dim, feature_dim), nn.ReLU(), StepLinear(feature_dim, feature_dim))

    def forward(self, classes: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.embedding(classes))

    def all_prototypes(self) -> torch.Tensor:
        """All C rows, [C, K]: forward(arange(C)) without the embedding lookup and its scatter in backward."""
        return self.mlp(self.embedding.weight)
