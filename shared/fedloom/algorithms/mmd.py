"""The biased MMD^2 estimate with a sum of Gaussian kernels, diagonals included, that FedCP's regulariser and
FedKTL's server alignment both use (pfl_algorithms.md 9; algorithms.md FedKTL eq. 7), pure functions."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch

MMD_BANDWIDTHS: tuple[float, ...] = (10.0, 15.0, 20.0, 50.0)
"""sigma of the kernel sum_sigma exp(-||a - b||^2 / (2 sigma)) (PFLlib's and FedKTL's values; sigma, not sigma^2)."""


def squared_distances(z: torch.Tensor) -> torch.Tensor:
    """D[i, j] = ||z_i - z_j||^2 for the rows of z [n, K] with one matrix product (clamped at 0 against
    rounding; the diagonal is then 0 up to rounding)."""
    squares = (z * z).sum(dim=1)
    return (squares.unsqueeze(1) + squares.unsqueeze(0) - 2.0 * (z @ z.t())).clamp_min_(0.0)


def mmd_block_weights(n: int, m: int, device: torch.device | None = None) -> torch.Tensor:
    """Weights W [n + m, n + m] with sum(W * K) = mean K_xx + mean K_yy - 2 mean K_xy for the kernel matrix K of
    cat([x, y]): 1/n^2 on the x-x block, 1/m^2 on y-y, -1/(n m) on x-y and on y-x."""
    w = torch.empty(n + m, n + m, device=device)
    w[:n, :n], w[n:, n:] = 1.0 / (n * n), 1.0 / (m * m)
    w[:n, n:], w[n:, :n] = -1.0 / (n * m), -1.0 / (n * m)
    return w


@functools.lru_cache(maxsize=16)
def kernel_scales(bandwidths: tuple[float, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """-1 / (2 sigma) for each bandwidth, made once per (bandwidths, dtype, device) and reused every step."""
    return torch.tensor([-0.5 / s for s in bandwidths], dtype=dtype, device=device)


def gaussian_kernels(distances: torch.Tensor, bandwidths: Sequence[float] = MMD_BANDWIDTHS) -> torch.Tensor:
    """sum_sigma exp(-D / (2 sigma)) elementwise, all bandwidths in one broadcast exp."""
    scales = kernel_scales(tuple(bandwidths), distances.dtype, distances.device)
    return torch.exp(distances.unsqueeze(-1) * scales).sum(dim=-1)


def mmd(
    x: torch.Tensor,
    y: torch.Tensor,
    bandwidths: Sequence[float] = MMD_BANDWIDTHS,
    block_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Biased MMD^2 estimate, diagonals included: mean_ij (K_xx + K_yy - 2 K_xy) for x [n, K], y [m, K].

    One distance matrix over cat([x, y]); `block_weights` (`mmd_block_weights(n, m)`) may be passed in to reuse it.
    """
    n, m = x.shape[0], y.shape[0]
    weights = mmd_block_weights(n, m, x.device) if block_weights is None else block_weights
    kernels = gaussian_kernels(squared_distances(torch.cat([x, y])), bandwidths)
    return (kernels * weights).sum()
