from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fedloom.data import LOADERS, DatasetSpec, load_federated_dataset
from fedloom.errors import ConfigError, DataError


def test_registry_names() -> None:
    assert set(LOADERS) == {"synthetic", "fmnist", "mnist", "cifar10", "cifar100", "folder", "pfl"}


@pytest.mark.parametrize("name", ["imagenet", "synthetic:x", "fmnist:/tmp", "pfl"])
def test_unknown_or_malformed_names(name: str) -> None:
    with pytest.raises(ConfigError, match="synthetic, fmnist, mnist, cifar10, cifar100|needs a directory"):
        load_federated_dataset(DatasetSpec(name=name))


@pytest.mark.parametrize("partition", ["iid", "pat:2", "dir:0.1", "dir:10"])
def test_synthetic_end_to_end(partition: str) -> None:
    shape = (3, 8, 8)
    spec = DatasetSpec(name="synthetic", samples=600, num_clients=6, partition=partition, image_shape=shape)
    ds = load_federated_dataset(spec)
    assert (ds.name, ds.num_classes, ds.input_shape, len(ds.clients)) == ("synthetic", 10, (3, 8, 8), 6)
    assert sum(c.num_train + c.num_test for c in ds.clients) == 600
    assert [c.client_id for c in ds.clients] == list(range(6))
    assert all(c.num_train >= 1 for c in ds.clients)
    if partition == "pat:2":
        assert all(len(torch.cat([c.train_y, c.test_y]).unique()) == 2 for c in ds.clients)


def test_seed_changes_the_partition() -> None:
    def sizes(seed: int) -> list[int]:
        ds = load_federated_dataset(DatasetSpec(name="synthetic", samples=600, num_clients=6, seed=seed))
        return [c.num_train for c in ds.clients]

    assert sizes(1) == sizes(1) and sizes(1) != sizes(2)


def test_more_clients_than_samples_names_both_numbers() -> None:
    with pytest.raises(DataError, match="cannot split 5 samples among 10 clients"):
        load_federated_dataset(DatasetSpec(name="synthetic", samples=5, num_clients=10))


def test_folder_without_dir_and_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="folder:/path/to/dir"):
        load_federated_dataset(DatasetSpec(name="folder:"))
    with pytest.raises(DataError, match=str(tmp_path / "nope")):
        load_federated_dataset(DatasetSpec(name=f"folder:{tmp_path / 'nope'}"))
