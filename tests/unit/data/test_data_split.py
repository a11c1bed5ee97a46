from __future__ import annotations

import numpy as np
import pytest
import torch

from fedloom.data import DatasetSpec, build_clients, load_federated_dataset, split_sizes, train_test_split
from fedloom.data.raw import RawDataset


@pytest.mark.parametrize(("n", "sizes"), [(10, (7, 3)), (4, (3, 1)), (100, (75, 25)), (1, (0, 1)), (41, (30, 11))])
def test_split_sizes_75_25(n: int, sizes: tuple[int, int]) -> None:
    assert split_sizes(n, 0.75) == sizes


def test_train_test_split_is_a_seeded_partition_of_the_client() -> None:
    idx = np.arange(100, 120, dtype=np.int64)
    train, test = train_test_split(idx, 0.75, np.random.default_rng(0))
    assert (len(train), len(test)) == (15, 5)
    assert np.array_equal(np.sort(np.concatenate([train, test])), idx)
    train2, test2 = train_test_split(idx, 0.75, np.random.default_rng(0))
    assert np.array_equal(train, train2) and np.array_equal(test, test2)


def test_build_clients_copies_the_right_rows() -> None:
    x = torch.arange(12, dtype=torch.float32).reshape(12, 1, 1, 1)
    raw = RawDataset("t", x, torch.arange(12) % 3, 3)
    parts = [np.arange(0, 8, dtype=np.int64), np.arange(8, 12, dtype=np.int64)]
    clients = build_clients(raw, parts, 0.75, seed=5)
    assert [(c.client_id, c.num_train, c.num_test) for c in clients] == [(0, 6, 2), (1, 3, 1)]
    for c, part in zip(clients, parts, strict=True):
        rows = torch.cat([c.train_x, c.test_x]).flatten().long()
        assert sorted(rows.tolist()) == part.tolist()
        assert torch.equal(torch.cat([c.train_y, c.test_y]), rows % 3)
        assert c.train_x.dtype == torch.float32 and c.train_y.dtype == torch.int64


def test_loaded_clients_are_split_75_25_and_deterministic() -> None:
    spec = DatasetSpec(name="synthetic", samples=400, num_clients=4, partition="iid", seed=3)
    a, b = load_federated_dataset(spec), load_federated_dataset(spec)
    for ca, cb in zip(a.clients, b.clients, strict=True):
        assert (ca.num_train, ca.num_test) == split_sizes(100, 0.75)
        assert torch.equal(ca.train_x, cb.train_x) and torch.equal(ca.test_y, cb.test_y)
