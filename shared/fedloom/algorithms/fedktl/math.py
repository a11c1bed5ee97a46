"""FedKTL math (Zhang et al., CVPR'24), pure functions.

Glossary: E = ETF vectors, one unit row per class [C, C]; z = the head's output in ETF space [B, C];
s, m = ArcFace scale and angular margin; Q = transformed prototypes [N, d]; omega = generator latents.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from fedloom.algorithms.mmd import MMD_BANDWIDTHS, mmd

ACOS_EPS = 1e-7


def etf_vectors(num_classes: int, rng: torch.Generator) -> torch.Tensor:
    """Simplex equiangular tight frame: C unit rows with pairwise cosine -1/(C-1) (paper eq. 2).

    M = sqrt(C/(C-1)) * P (I - 11^T/C) with P the orthogonal Q factor of a U[0,1) matrix; the rows
    returned are the normalised columns of M.
    """
    if num_classes < 2:
        raise ValueError("an ETF needs at least 2 classes")
    a = torch.rand(num_classes, num_classes, generator=rng, dtype=torch.float64)
    p, _ = torch.linalg.qr(a)
    centred = torch.eye(num_classes, dtype=torch.float64) - torch.full(
        (num_classes, num_classes), 1.0 / num_classes, dtype=torch.float64
    )
    m = math.sqrt(num_classes / (num_classes - 1)) * p @ centred
    return F.normalize(m.T, dim=1).float()


def arcface_logits(
    z: torch.Tensor, etf: torch.Tensor, labels: torch.Tensor, margin: float, scale: float
) -> torch.Tensor:
    """s * cos(theta_j), with the target's angle widened to theta_y + m (ArcFace on fixed ETF vectors).

    The cosine is clamped to [-1 + eps, 1 - eps] before acos, so the gradient stays finite.
    """
    cos = F.normalize(z, dim=1) @ etf.T
    target = cos.gather(1, labels.unsqueeze(1)).clamp(-1 + ACOS_EPS, 1 - ACOS_EPS)
    widened = torch.cos(torch.acos(target) + margin)
    return scale * cos.scatter(1, labels.unsqueeze(1), widened)


def etf_cosines(z: torch.Tensor, etf: torch.Tensor) -> torch.Tensor:
    """cos(z, e_j) for every class j, [B, C]; inference takes the argmax (no margin)."""
    return F.normalize(z, dim=1) @ etf.T


def etf_prototypes(z: torch.Tensor, labels: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Client prototypes P^c = normalise(mean over class c of normalise(z)); (present classes, rows)."""
    unit = F.normalize(z, dim=1)
    sums = torch.zeros(num_classes, z.shape[1], dtype=z.dtype, device=z.device).index_add_(0, labels, unit)
    counts = torch.bincount(labels, minlength=num_classes)
    present = torch.nonzero(counts).flatten()
    return present, F.normalize(sums[present], dim=1)


def mmd_rbf(x: torch.Tensor, y: torch.Tensor, bandwidths: tuple[float, ...] = MMD_BANDWIDTHS) -> torch.Tensor:
    """Biased MMD^2 with a sum of RBF kernels exp(-||a-b||^2 / (2 a)), diagonals included (paper eq. 7):
    mean(K_xx + K_yy - 2 K_xy), `bandwidths` in the role of sigma^2 (`fedloom.algorithms.mmd`)."""
    return mmd(x, y, bandwidths)
