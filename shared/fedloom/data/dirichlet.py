"""Practical label-skew partition, Dirichlet(beta) per class (PFLlib "dir"), guaranteed to finish.

PFLlib repeats the whole allocation until every client holds `least` samples, which never ends for
e.g. 200 clients and beta 0.1 (HtFLlib#14). We try at most `max_attempts` allocations; if none
reaches the minimum we keep the attempt with the smallest total shortfall and *top it up*: each
client below `least` (smallest first) takes samples from the currently largest client, preferring
a label the receiver already holds (else the donor's most common label), taking the donor's last
samples of that label in allocation order, and never pushing a donor below `least`. This always
succeeds because least <= N / num_clients, changes as few samples as needed (reported as
`moved_samples`) and keeps the label skew. Everything is a function of the labels and the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fedloom.errors import DataError

IndexArray = npt.NDArray[np.int64]
LabelArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PartitionResult:
    """Per-client sample indices plus facts about how they were drawn (for the statistics JSON)."""

    indices: list[IndexArray]
    info: dict[str, object] = field(default_factory=dict)


def check_labels(labels: LabelArray, num_classes: int | None = None) -> None:
    """Labels must be a 1-D array of integers in 0..num_classes-1."""
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"labels must be a 1-D integer array, got shape {labels.shape} dtype {labels.dtype}")
    if labels.size and int(labels.min()) < 0:
        raise DataError(f"labels must be >= 0, found {int(labels.min())}")
    if num_classes is not None and labels.size and int(labels.max()) >= num_classes:
        raise DataError(f"label {int(labels.max())} is out of range for {num_classes} classes")


def check_enough_samples(num_samples: int, num_clients: int) -> None:
    """Every client needs at least one sample."""
    if num_clients < 1:
        raise DataError(f"num_clients must be >= 1, got {num_clients}")
    if num_clients > num_samples:
        raise DataError(
            f"cannot split {num_samples} samples among {num_clients} clients: "
            f"use at most {num_samples} clients or a larger data set"
        )


def _proportions(sizes: IndexArray, cap: float, beta: float, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """p ~ Dir(beta), zeroed for clients already holding >= cap samples, renormalised."""
    p = rng.dirichlet(np.full(len(sizes), beta))
    is_open = sizes < cap
    p = np.where(is_open, p, 0.0)
    total = float(p.sum())
    if not np.isfinite(total) or total <= 0.0:  # every open share underflowed: split evenly instead
        return is_open / is_open.sum()
    return p / total


def _attempt(
    by_class: list[IndexArray], num_clients: int, beta: float, cap: float, rng: np.random.Generator
) -> tuple[IndexArray, IndexArray]:
    """One allocation; returns (visit order of the samples, owning client of each visited sample)."""
    sizes = np.zeros(num_clients, dtype=np.int64)
    order: list[IndexArray] = []
    owner: list[IndexArray] = []
    for idx_k in by_class:
        shuffled = rng.permutation(idx_k)
        p = _proportions(sizes, cap, beta, rng)
        cuts = np.clip((np.cumsum(p) * len(shuffled)).astype(np.int64)[:-1], 0, len(shuffled))
        counts = np.diff(np.concatenate(([0], cuts, [len(shuffled)]))).astype(np.int64)
        order.append(shuffled)
        owner.append(np.repeat(np.arange(num_clients, dtype=np.int64), counts))
        sizes += counts
    return np.concatenate(order), np.concatenate(owner)


def _shortfall(owner: IndexArray, num_clients: int, least: int) -> int:
    sizes = np.bincount(owner, minlength=num_clients)
    return int(np.maximum(least - sizes, 0).sum())


def _move(labels: LabelArray, owner: IndexArray, donor: int, receiver: int, wanted: int) -> int:
    """Move up to `wanted` samples of one label from donor to receiver; returns how many moved."""
    donor_pos = np.flatnonzero(owner == donor)
    donor_labels = labels[donor_pos]
    donor_counts = np.bincount(donor_labels)
    held = np.bincount(labels[owner == receiver], minlength=len(donor_counts))[: len(donor_counts)] > 0
    shared = np.where(held, donor_counts, 0)
    label = int(np.argmax(shared)) if shared.max() > 0 else int(np.argmax(donor_counts))
    chosen = donor_pos[donor_labels == label][-wanted:]
    owner[chosen] = receiver
    return len(chosen)


def _top_up(labels: LabelArray, owner: IndexArray, num_clients: int, least: int) -> int:
    """Raise every client to `least` samples by moving samples from the largest clients (in place)."""
    sizes = np.bincount(owner, minlength=num_clients).astype(np.int64)
    moved = 0
    for receiver in np.argsort(sizes, kind="stable"):
        while sizes[receiver] < least:
            donor = int(np.argmax(sizes))
            wanted = int(min(least - sizes[receiver], sizes[donor] - least))
            got = _move(labels, owner, donor, int(receiver), wanted)
            sizes[donor] -= got
            sizes[receiver] += got
            moved += got
    return moved


def _group(order: IndexArray, owner: IndexArray, num_clients: int) -> list[IndexArray]:
    """Per-client index arrays, each in allocation (class-major, shuffled within class) order."""
    by_owner = np.argsort(owner, kind="stable")
    bounds = np.cumsum(np.bincount(owner, minlength=num_clients))[:-1]
    return [order[part].astype(np.int64) for part in np.split(by_owner, bounds)]


def _check_dirichlet(labels: LabelArray, num_clients: int, beta: float, least: int) -> None:
    check_labels(labels)
    check_enough_samples(len(labels), num_clients)
    if not beta > 0:
        raise DataError(f"Dirichlet beta must be > 0, got {beta}; use e.g. 0.1")
    if least * num_clients > len(labels):
        raise DataError(
            f"least={least} samples for each of {num_clients} clients needs {least * num_clients} samples "
            f"but there are only {len(labels)}; lower the minimum or use fewer clients"
        )


def dirichlet_partition_result(
    labels: LabelArray, num_clients: int, beta: float, least: int, seed: int, max_attempts: int = 100
) -> PartitionResult:
    """`dirichlet_partition` plus `info`: attempts used and samples moved by the top-up."""
    least = max(1, least)
    _check_dirichlet(labels, num_clients, beta, least)
    rng = np.random.default_rng(seed)
    cap = len(labels) / num_clients
    by_class = [np.flatnonzero(labels == k).astype(np.int64) for k in range(int(labels.max()) + 1)]
    order, owner = _attempt(by_class, num_clients, beta, cap, rng)
    best, attempts = (_shortfall(owner, num_clients, least), order, owner), 1
    while best[0] > 0 and attempts < max_attempts:
        attempts += 1
        order, owner = _attempt(by_class, num_clients, beta, cap, rng)
        short = _shortfall(owner, num_clients, least)
        if short < best[0]:
            best = (short, order, owner)
    _, order, owner = best
    moved = _top_up(labels[order], owner, num_clients, least)
    info: dict[str, object] = {
        "partition": f"dir:{beta:g}",
        "beta": beta,
        "least_samples": least,
        "attempts": attempts,
        "moved_samples": moved,
    }
    return PartitionResult(_group(order, owner, num_clients), info)


def dirichlet_partition(
    labels: LabelArray, num_clients: int, beta: float, least: int, seed: int, max_attempts: int = 100
) -> list[IndexArray]:
    """PFLlib "dir": for each class, proportions ~ Dir(beta * 1_n), zeroed for clients already holding
    >= N/n samples; whole allocation retried until every client holds `least` samples, at most
    `max_attempts` times, then repaired by the top-up described in this module's docstring."""
    return dirichlet_partition_result(labels, num_clients, beta, least, seed, max_attempts).indices
