"""Seeded partitioners: labels in, one array of sample indices per client out.

All randomness comes from `np.random.default_rng(seed)`; the global numpy RNG is never touched.
Rules follow PFLlib as summarised in reference/algorithms.md section 3.1; where PFLlib can fail or loop
forever we stop with a DataError or repair the split, as documented per function.
"""

from __future__ import annotations

import math

import numpy as np

from fedloom.data.dirichlet import (
    IndexArray,
    LabelArray,
    PartitionResult,
    check_enough_samples,
    check_labels,
    dirichlet_partition,
    dirichlet_partition_result,
)
from fedloom.errors import ConfigError, DataError

__all__ = [
    "IndexArray",
    "LabelArray",
    "PartitionResult",
    "check_enough_samples",
    "dirichlet_partition",
    "dirichlet_partition_result",
    "iid_partition",
    "least_samples",
    "pathological_partition",
]


def least_samples(num_samples: int, num_clients: int, batch_size: int, train_ratio: float) -> int:
    """PFLlib's minimum client size: int(min(B / (1 - train_ratio), N / num_clients / 2))."""
    return int(min(batch_size / (1.0 - train_ratio), num_samples / num_clients / 2))


def iid_partition(labels: LabelArray, num_clients: int, seed: int) -> list[IndexArray]:
    """Shuffle all samples and deal them into `num_clients` parts whose sizes differ by at most one."""
    check_labels(labels)
    check_enough_samples(len(labels), num_clients)
    perm = np.random.default_rng(seed).permutation(len(labels)).astype(np.int64)
    return [part.astype(np.int64) for part in np.array_split(perm, num_clients)]


def _first_fit(num_clients: int, num_classes: int, classes_per_client: int) -> list[list[int]]:
    """PFLlib's rule: class k goes to the first ceil(n*K/C) clients that still need classes."""
    per_class = math.ceil(num_clients * classes_per_client / num_classes)
    need = [classes_per_client] * num_clients
    owners: list[list[int]] = []
    for _ in range(num_classes):
        chosen = [c for c in range(num_clients) if need[c] > 0][:per_class]
        for c in chosen:
            need[c] -= 1
        owners.append(chosen)
    return owners


def _dealt(num_clients: int, num_classes: int, classes_per_client: int) -> list[list[int]]:
    """Fallback: write the n*K slots class by class (the first n*K mod C classes one slot more), then
    deal slot p to client p mod n. A class's slots are consecutive and at most n long, so no client
    gets a class twice; every client gets K classes and every class 1+ clients."""
    slots = num_clients * classes_per_client
    owners: list[list[int]] = []
    start = 0
    for k in range(num_classes):
        size = slots // num_classes + (1 if k < slots % num_classes else 0)
        owners.append(sorted(p % num_clients for p in range(start, start + size)))
        start += size
    return owners


def clients_per_class(num_clients: int, num_classes: int, classes_per_client: int) -> list[list[int]]:
    """Which clients hold each class under "pat" (needs K <= C <= n*K).

    PFLlib's first-fit rule when it gives every client K classes and every class a client (e.g.
    20 clients, 10 classes, K=2: clients 0-3 get {0, 1}, 4-7 get {2, 3}, ...); when it does not
    (e.g. 3 clients, 3 classes, K=2: the last client would get one class) we use `_dealt` instead.
    """
    owners = _first_fit(num_clients, num_classes, classes_per_client)
    per_client = np.bincount([c for chosen in owners for c in chosen], minlength=num_clients)
    if all(owners) and bool((per_client == classes_per_client).all()):
        return owners
    return _dealt(num_clients, num_classes, classes_per_client)


def _check_pat(num_clients: int, num_classes: int, classes_per_client: int) -> None:
    if classes_per_client > num_classes:
        raise ConfigError(
            f"pat:{classes_per_client} asks for {classes_per_client} classes per client but the data set "
            f"has only {num_classes}; use pat:K with K <= {num_classes}"
        )
    if num_clients * classes_per_client < num_classes:
        need = math.ceil(num_classes / num_clients)
        raise ConfigError(
            f"pat:{classes_per_client} with {num_clients} clients covers only "
            f"{num_clients * classes_per_client} of {num_classes} classes, so samples would be dropped; "
            f"use pat:{need} or more, or more clients"
        )


def _class_amounts(num_all: int, holders: int, least_per_class: float, rng: np.random.Generator) -> IndexArray:
    """Unbalanced per-client amounts of one class: randint(max(num_per/10, least/C), num_per), rest last."""
    num_per = num_all / holders
    high = int(num_per)
    low = min(int(max(num_per / 10, least_per_class)), high)
    counts = rng.integers(low, high, size=holders - 1) if low < high else np.full(holders - 1, low)
    return np.append(counts, num_all - counts.sum()).astype(np.int64)


def pathological_partition(
    labels: LabelArray, num_clients: int, num_classes: int, classes_per_client: int, least: int, seed: int
) -> list[IndexArray]:
    """PFLlib "pat": K classes per client (see `clients_per_class`), unbalanced amounts per class.

    Each class's samples are shuffled, then cut into per-client amounts drawn by `_class_amounts`
    (the last holder takes the remainder), so every sample goes to exactly one client.
    """
    check_labels(labels, num_classes)
    check_enough_samples(len(labels), num_clients)
    _check_pat(num_clients, num_classes, classes_per_client)
    rng = np.random.default_rng(seed)
    parts: list[list[IndexArray]] = [[] for _ in range(num_clients)]
    for k, holders in enumerate(clients_per_class(num_clients, num_classes, classes_per_client)):
        idx_k = rng.permutation(np.flatnonzero(labels == k)).astype(np.int64)
        counts = _class_amounts(len(idx_k), len(holders), least / num_classes, rng)
        for client, chunk in zip(holders, np.split(idx_k, np.cumsum(counts)[:-1]), strict=True):
            parts[client].append(chunk)
    result = [np.concatenate(p) if p else np.zeros(0, np.int64) for p in parts]
    empty = [c for c, idx in enumerate(result) if len(idx) == 0]
    if empty:
        raise DataError(
            f"pat:{classes_per_client} left clients {empty[:10]} without samples (their classes are too "
            "small); use fewer clients or more classes per client"
        )
    return result
