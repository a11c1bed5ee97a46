"""`fedloom data partition fmnist20`: byte for byte the folder the reference figures were measured on."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from fedloom.cli import main
from fedloom.data.fmnist20 import FINGERPRINT, Fmnist20Options, dirichlet_buckets, train_test_split


def test_the_command_writes_the_reference_folder(
    tmp_path: Path, needs_fmnist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fmnist20"
    assert main(["data", "partition", "fmnist20", str(out)]) == 0
    assert hashlib.sha256((out / "SHA256SUMS").read_bytes()).hexdigest() == FINGERPRINT
    summary = json.loads(capsys.readouterr().out)
    assert summary["sha256_of_SHA256SUMS"] == FINGERPRINT and summary["num_samples"] == 14000
    config = json.loads((out / "config.json").read_text())
    assert config["num_clients"] == 20 and sum(config["clients"][i]["samples"] for i in range(20)) == 14000
    assert sorted(p.name for p in (out / "train").iterdir()) == sorted(f"{i}.npz" for i in range(20))


def test_buckets_respect_the_minimum_and_cover_every_sample_once() -> None:
    labels = np.repeat(np.arange(10), 60).astype(np.int64)
    options = Fmnist20Options(clients=6, alpha=0.5)
    buckets, attempts = dirichlet_buckets(labels, options, np.random.RandomState(3))
    assert attempts >= 1 and min(len(b) for b in buckets) >= options.least_samples(len(labels))
    assert sorted(i for b in buckets for i in b) == list(range(len(labels)))
    again, _ = dirichlet_buckets(labels, options, np.random.RandomState(3))
    assert again == buckets  # a function of the seed


def test_the_split_puts_the_first_positions_of_the_permutation_in_test() -> None:
    train, test = train_test_split(10, 0.75, np.random.RandomState(0))
    order = np.random.RandomState(0).permutation(10)
    assert len(test) == 3 and list(test) == list(order[:3]) and list(train) == list(order[3:])


def test_a_missing_idx_folder_names_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "partition", "fmnist20", str(tmp_path / "out"), "--idx-dir", str(tmp_path)]) == 2
    assert "dataset-fashion-mnist" in capsys.readouterr().err
