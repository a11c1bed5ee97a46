"""FedALA math (Zhang et al., "FedALA: Adaptive Local Aggregation for Personalized Federated Learning",
AAAI 2023), pure functions; behaviour as pfl_algorithms.md 8 describes PFLlib's.

Adaptive local aggregation: instead of overwriting the local model l with the global g, a client sets
theta = l + (g - l) * W for the top tensors, with element-wise W in [0, 1] learned on its own data by
W <- clip(W - eta * grad_theta(loss) * (g - l), 0, 1); lower tensors take g as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def mixed(local: Sequence[Tensor], global_: Sequence[Tensor], weights: Sequence[Tensor]) -> list[Tensor]:
    """theta^k = l^k + (g^k - l^k) * W^k for each top tensor k (new tensors)."""
    return [lk + (gk - lk) * wk for lk, gk, wk in zip(local, global_, weights, strict=True)]


def updated_weights(
    weights: Sequence[Tensor], grads: Sequence[Tensor], local: Sequence[Tensor], global_: Sequence[Tensor], eta: float
) -> list[Tensor]:
    """W^k <- clamp(W^k - eta * dL/dtheta^k * (g^k - l^k), 0, 1): the chain rule through theta = l + (g - l) W."""
    return [
        torch.clamp(wk - eta * dk * (gk - lk), 0.0, 1.0)
        for wk, dk, lk, gk in zip(weights, grads, local, global_, strict=True)
    ]


def unchanged_since_last_round(global_first: Tensor, local_first: Tensor) -> bool:
    """PFLlib's skip test: the signed sum of g - l over the first parameter tensor is zero (true at the start,
    when every client holds the initial global model; a signed sum can also cancel by chance: reproduced)."""
    return float((global_first - local_first).sum()) == 0.0


def start_phase_converged(losses: Sequence[float], window: int, threshold: float) -> bool:
    """More than `window` losses recorded and the population std of the last `window` below `threshold`."""
    if len(losses) <= window:
        return False
    return float(torch.tensor(losses[-window:], dtype=torch.float64).std(unbiased=False)) < threshold


def ala_slice(n: int, percent: int, rng: torch.Generator) -> tuple[int, int]:
    """(start, length) of the contiguous training slice ALA reads: length = floor(percent * 0.01 * n), start
    uniform in [0, n - length] (both ends included)."""
    length = int(percent * 0.01 * n)  # PFLlib's expression, same float rounding
    start = int(torch.randint(0, n - length + 1, (1,), generator=rng))
    return start, length
