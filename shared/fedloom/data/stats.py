"""Partition statistics: per-client train/test sizes and label counts, as a JSON-ready dict."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from fedloom.data.types import ClientData, FederatedDataset

_COMPUTED_KEYS = ("dataset", "num_classes", "input_shape", "num_clients", "totals", "clients")


def _label_pairs(counts: torch.Tensor) -> list[list[int]]:
    """Non-zero counts as [[label, count], ...] (the PFLlib config.json style)."""
    return [[int(k), int(counts[k])] for k in torch.nonzero(counts).flatten().tolist()]


def _counts(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return torch.bincount(labels.to(torch.int64), minlength=num_classes)


def client_statistics(client: ClientData, num_classes: int) -> dict[str, object]:
    """Sizes and [label, count] pairs of one client (all, train, test)."""
    train = _counts(client.train_y, num_classes)
    test = _counts(client.test_y, num_classes)
    return {
        "client": client.client_id,
        "samples": client.num_train + client.num_test,
        "train_samples": client.num_train,
        "test_samples": client.num_test,
        "labels": _label_pairs(train + test),
        "train_labels": _label_pairs(train),
        "test_labels": _label_pairs(test),
    }


def _totals(clients: list[ClientData], num_classes: int) -> dict[str, object]:
    per_label = torch.zeros(num_classes, dtype=torch.int64)
    for c in clients:
        per_label += _counts(c.train_y, num_classes) + _counts(c.test_y, num_classes)
    train = sum(c.num_train for c in clients)
    test = sum(c.num_test for c in clients)
    return {
        "samples": train + test,
        "train_samples": train,
        "test_samples": test,
        "labels": per_label.tolist(),
    }


def compute_statistics(
    name: str, num_classes: int, input_shape: tuple[int, int, int], clients: list[ClientData]
) -> dict[str, object]:
    """The statistics of clients not yet wrapped in a FederatedDataset."""
    return {
        "dataset": name,
        "num_classes": num_classes,
        "input_shape": list(input_shape),
        "num_clients": len(clients),
        "totals": _totals(clients, num_classes),
        "clients": [client_statistics(c, num_classes) for c in clients],
    }


def partition_statistics(ds: FederatedDataset) -> dict[str, object]:
    """Counts recomputed from the tensors, plus what the loader recorded (e.g. "partition", "seed")."""
    extra = {k: v for k, v in ds.statistics.items() if k not in _COMPUTED_KEYS}
    return {**compute_statistics(ds.name, ds.num_classes, ds.input_shape, ds.clients), **extra}


def write_partition_statistics(ds: FederatedDataset, path: Path) -> Path:
    """Write `partition_statistics(ds)` as JSON to `path` (parent folders created); returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(partition_statistics(ds), indent=1) + "\n", encoding="utf-8")
    return path
