"""FedDBE math (Zhang et al., "Eliminating Domain Bias for Federated Learning in Representation Space",
NeurIPS 2023), pure functions; behaviour as pfl_algorithms.md 11 describes PFLlib's.

Each client adds a trainable bias b (the personalized representation bias memory, PRBM) to its features
before the head, and mean regularisation (MR) pulls its running-mean representation mu_r towards a global
mean mu_g fixed once at the start.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def running_mean(previous: Tensor, features: Tensor, momentum: float) -> Tensor:
    """mu_r <- (1 - m) mu_r + m mean_batch(features): a zero-started EMA without bias correction (PFLlib's)."""
    return (1.0 - momentum) * previous + momentum * features.mean(dim=0)


def mean_regulariser(mu_r: Tensor, mu_g: Tensor) -> Tensor:
    """mean_k 0.5 (mu_r,k - mu_g,k)^2, the MR term that kappa weighs."""
    return (0.5 * (mu_r - mu_g) ** 2).mean()


def global_mean(means: Sequence[Tensor], num_samples: Sequence[int]) -> Tensor:
    """mu_g = sum_i (n_i / n) mu_r,i over the clients of the initialisation period."""
    total = sum(num_samples)
    if not means or total <= 0:
        raise ValueError("the global mean needs at least one client with training samples")
    return torch.stack(list(means)).mul(torch.tensor(num_samples, dtype=means[0].dtype)[:, None] / total).sum(dim=0)
