"""FedCP math (Zhang et al., "FedCP: Separating Feature Information for Personalized Federated Learning via
Conditional Policy", KDD 2023), pure functions; what PFLlib computes is pfl_algorithms.md 9.

A conditional policy network (CPN) reads each feature r (times the client's normalised context c) and splits
it per sample and per coordinate into a personal share m_p and a global share m_g = 1 - m_p, drawn with the
Gumbel-softmax over the two channels (tau = 1, soft). The logits add the personal head on r * m_p and the
frozen global head on r * m_g. An MMD term with a 4-bandwidth Gaussian kernel keeps the base's features close
to those of the frozen global base on the same batch.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
import torch.nn.functional as F

MMD_BANDWIDTHS: tuple[float, ...] = (10.0, 15.0, 20.0, 50.0)
"""sigma of the kernel sum_sigma exp(-||a - b||^2 / (2 sigma)) (PFLlib's values; sigma, not sigma^2)."""
INITIAL_CONTEXT_SEED = 0
"""The initial context is torch.rand(K) from a generator seeded with 0, identical for every client: PFLlib
draws torch.rand(1, K) right after its per-client torch.manual_seed(0), which gives the very same values."""


def initial_context(dim: int) -> torch.Tensor:
    """c before the client's first trained head: U[0, 1)^K, the same vector for every client and run."""
    return torch.rand(dim, generator=torch.Generator().manual_seed(INITIAL_CONTEXT_SEED))


def context_from_head(head_weight: torch.Tensor) -> torch.Tensor:
    """c = sum over classes (rows) of the personal head's weight [C, K] -> [K]."""
    return head_weight.sum(dim=0)


def normalised_context(context: torch.Tensor) -> torch.Tensor:
    """c / ||c||_2 (F.normalize's guard against a zero vector)."""
    return F.normalize(context, p=2.0, dim=-1)


def logistic_noise(shape: Sequence[int], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Logistic(0, 1) samples log(u / (1 - u)), u ~ U(0, 1): the difference of two independent Gumbel(0, 1)
    draws, which is all the two-channel Gumbel-softmax needs (one uniform per coordinate instead of two)."""
    u = torch.rand(tuple(shape), generator=generator, device=device)
    return u.clamp_min_(torch.finfo(u.dtype).tiny).logit_()


def policy_masks(policy_out: torch.Tensor, noise: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """The personal share m_p [B, K] of `F.gumbel_softmax(policy_out.view(B, 2, K), tau, hard=False, dim=1)`.

    Channel 0 (outputs 0..K-1) is the personal one, channel 1 (K..2K-1) the global one. A softmax over two
    entries is a sigmoid of their difference: m_p = sigmoid((l_p + g_p - l_g - g_g) / tau), with
    `noise` = g_p - g_g ~ Logistic(0, 1) (`logistic_noise`); m_g = 1 - m_p.
    """
    personal, global_ = policy_out.view(policy_out.shape[0], 2, -1).unbind(dim=1)
    difference = personal - global_ + noise
    return torch.sigmoid(difference if tau == 1.0 else difference / tau)


def split_features(features: torch.Tensor, personal_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(r * m_p, r * m_g) with m_g = 1 - m_p, computed as r - r * m_p."""
    personal = features * personal_mask
    return personal, features - personal


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


def mixed_head(personal: torch.Tensor, global_: torch.Tensor) -> torch.Tensor:
    """head_g after training: 0.5 head_p + 0.5 head_g (a new tensor; the client copies it in place)."""
    return 0.5 * personal + 0.5 * global_
