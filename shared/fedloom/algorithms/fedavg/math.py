"""FedAvg math (McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized Data",
AISTATS 2017), pure functions. The clients' objective is plain cross-entropy; the server's update is below."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from fedloom.algorithms.weight_average import weighted_average


def fedavg_weights(num_samples: Sequence[int]) -> list[float]:
    """n_k / n for each uploading client k, n = sum of their n_k (Algorithm 1, ServerUpdate); equal weights
    when no client has a sample (the average then still exists)."""
    total = sum(num_samples)
    if any(n < 0 for n in num_samples):
        raise ValueError(f"sample counts must be non-negative, got {list(num_samples)}")
    if total == 0:
        return [1.0 / len(num_samples)] * len(num_samples)
    return [n / total for n in num_samples]


def fedavg_average(uploads: Sequence[dict[str, Tensor]], num_samples: Sequence[int]) -> dict[str, Tensor]:
    """w_{t+1} = sum_k (n_k / n) w^k_{t+1} (Algorithm 1, ServerUpdate), for every uploaded tensor."""
    return weighted_average(uploads, fedavg_weights(num_samples))
