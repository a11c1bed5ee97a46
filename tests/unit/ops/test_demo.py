"""`fedloom demo` picks Fashion-MNIST when it is installed and says loudly when it falls back to synthetic data."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from fedloom.ops import demo
from fedloom.ops.demo import DemoSettings, data_banner, data_spec, resolve_dataset
from fedloom.ops.report import write_report
from fedloom.wire.control import FederationConfig, FederationState


def test_installed_fashion_mnist_is_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b""))
    monkeypatch.setattr(demo, "FMNIST_DIR", tmp_path)
    settings = resolve_dataset(DemoSettings())
    assert settings.dataset == "fmnist" and data_banner(settings) is None
    assert data_spec(settings, 2).startswith("fmnist,clients=4,partition=dir:0.1,index=2")


def test_without_fashion_mnist_the_demo_says_it_runs_on_synthetic_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "FMNIST_DIR", tmp_path / "absent")
    settings = resolve_dataset(DemoSettings())
    banner = data_banner(settings)
    assert settings.dataset == "synthetic" and banner is not None
    assert "SYNTHETIC DATA" in banner and "scripts/bootstrap demo" in banner and str(tmp_path / "absent") in banner


def test_an_explicit_dataset_is_kept() -> None:
    assert resolve_dataset(DemoSettings(dataset="synthetic")).dataset == "synthetic"


def test_the_summary_carries_the_data_set_and_its_warning(tmp_path: Path) -> None:
    config = FederationConfig(algorithm="fedtgp", num_classes=10, input_shape=(1, 28, 28), rounds=1)
    state = FederationState(
        federation_id="f1", status="finished", config=config, current_round=0, clients=[], rounds=[]
    )
    write_report(tmp_path, state, None, {"dataset": "synthetic", "data_warning": "SYNTHETIC DATA: ..."})
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["dataset"] == "synthetic" and summary["data_warning"].startswith("SYNTHETIC DATA")
