"""The Gaussian mechanism on per-class sums of clipped rows, pure functions.

A client's upload is a function of, per class c, the sum S_c of its samples' rows (features or logits),
each clipped to L2 norm `clip`, and the count n_c. Counts are noised too (not public by design): a count
says whether a sample is there, which is what differential privacy hides. Adding or removing one sample
changes one S_c by at most C and one n_c by 1, so the released vector (S_1..S_C, C n_1..C n_C) has L2
sensitivity sqrt(2) C, and N(0, (z sqrt(2) C)^2) noise on every coordinate is the Gaussian mechanism
with noise multiplier z. Means, the class list and every later use are post-processing.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

COUNT_THRESHOLD_SIGMAS = 3.0


def sensitivity(clip: float) -> float:
    """L2 sensitivity of (sums, clip * counts) to adding or removing one sample."""
    return math.sqrt(2.0) * clip


def clip_rows(rows: Tensor, clip: float) -> Tensor:
    """Each row scaled by min(1, clip / ||row||_2): every row's norm is at most `clip`."""
    norms = torch.linalg.vector_norm(rows, dim=1, keepdim=True)
    return rows * torch.clamp(clip / norms.clamp_min(1e-12), max=1.0)


def noisy_class_sums(
    rows: Tensor, labels: Tensor, num_classes: int, clip: float, noise_multiplier: float, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """(noisy sums [C, D], noisy counts [C]) of the clipped rows; noise drawn on the CPU from `generator`."""
    clipped = clip_rows(rows.float(), clip)
    sums = torch.zeros(num_classes, rows.shape[1], device=rows.device).index_add_(0, labels, clipped)
    counts = torch.bincount(labels, minlength=num_classes)
    std = noise_multiplier * sensitivity(clip)
    noise = torch.randn(num_classes, rows.shape[1] + 1, generator=generator).to(rows.device) * std
    return sums + noise[:, :-1], counts.float() + noise[:, -1] / clip


def count_threshold(noise_multiplier: float) -> float:
    """Classes whose noisy count is below this are not released: 3 standard deviations of the count noise
    (an absent class passes with probability 0.13%), and at least one sample."""
    return max(1.0, COUNT_THRESHOLD_SIGMAS * noise_multiplier * math.sqrt(2.0))


def private_class_means(
    rows: Tensor, labels: Tensor, num_classes: int, clip: float, noise_multiplier: float, generator: torch.Generator
) -> tuple[Tensor, Tensor, Tensor, float]:
    """(released classes [n], their noisy means [n, D], their noisy counts [n], the sum of all noisy counts):
    noisy sum over noisy count, for the classes whose noisy count is at or above `count_threshold`."""
    sums, counts = noisy_class_sums(rows, labels, num_classes, clip, noise_multiplier, generator)
    released = torch.nonzero(counts >= count_threshold(noise_multiplier)).flatten()
    return released, sums[released] / counts[released].unsqueeze(1), counts[released], float(counts.sum())
