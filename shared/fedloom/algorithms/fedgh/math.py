"""FedGH math (Yi et al., ACM MM'23), pure functions.

Glossary: P = uploaded class prototypes [N, K] with labels y [N]; W, b = the global head's parameters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def head_loss(prototypes: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """CE(W P + b, y): the global head's cross-entropy on (prototype, class) pairs (FedGH eq. 5)."""
    return F.cross_entropy(F.linear(prototypes, weight, bias), labels)


def epoch_batches(n: int, batch_size: int, rng: torch.Generator) -> list[torch.Tensor]:
    """One shuffled epoch over n pairs in batches of `batch_size` (the last one may be smaller)."""
    return list(torch.randperm(n, generator=rng).split(batch_size))
