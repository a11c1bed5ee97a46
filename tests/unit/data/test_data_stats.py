from __future__ import annotations

import json
from pathlib import Path

import torch

from fedloom.data import (
    ClientData,
    DatasetSpec,
    FederatedDataset,
    load_federated_dataset,
    partition_statistics,
    write_partition_statistics,
)


def _client(cid: int, train: list[int], test: list[int]) -> ClientData:
    def images(n: int) -> torch.Tensor:
        return torch.zeros(n, 1, 2, 2)

    return ClientData(cid, images(len(train)), torch.tensor(train), images(len(test)), torch.tensor(test))


def test_partition_statistics_hand_case(tmp_path: Path) -> None:
    clients = [_client(0, [0, 0, 2], [2]), _client(1, [1, 1], [1])]
    ds = FederatedDataset("hand", 3, (1, 2, 2), clients, {"partition": {"partition": "iid"}})
    stats = partition_statistics(ds)
    assert stats["num_clients"] == 2 and stats["num_classes"] == 3 and stats["input_shape"] == [1, 2, 2]
    assert stats["totals"] == {"samples": 7, "train_samples": 5, "test_samples": 2, "labels": [2, 3, 2]}
    assert stats["clients"] == [
        {
            "client": 0,
            "samples": 4,
            "train_samples": 3,
            "test_samples": 1,
            "labels": [[0, 2], [2, 2]],
            "train_labels": [[0, 2], [2, 1]],
            "test_labels": [[2, 1]],
        },
        {
            "client": 1,
            "samples": 3,
            "train_samples": 2,
            "test_samples": 1,
            "labels": [[1, 3]],
            "train_labels": [[1, 2]],
            "test_labels": [[1, 1]],
        },
    ]
    assert stats["partition"] == {"partition": "iid"}
    path = write_partition_statistics(ds, tmp_path / "out" / "stats.json")
    assert json.loads(path.read_text()) == stats


def test_loader_records_partition_facts() -> None:
    ds = load_federated_dataset(DatasetSpec(name="synthetic", samples=500, num_clients=5, seed=2))
    part = ds.statistics["partition"]
    assert isinstance(part, dict)
    assert part["partition"] == "dir:0.1" and part["seed"] == 2 and part["least_samples"] == 40
    recomputed = partition_statistics(ds)
    assert recomputed["totals"] == ds.statistics["totals"]
    json.dumps(ds.statistics)  # JSON-ready
