"""`fedloom synthesize` on real simulation folders: what it writes (image folder, labels.csv, PFLlib layout,
metadata, README), that the files agree with each other, that the privacy of the federation travels with
the dataset, and the refusals a user gets for the wrong source or folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from fedloom.cli import main
from fedloom.data.pfl import load_pfl_folder, save_pfl_folder
from fedloom.errors import ConfigError
from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.simulation.setup import load_dataset
from fedloom.synthesis import SyntheticOptions, perturbed_latents, source_from_run, write_synthetic_dataset
from fedloom.synthesis.utility import UtilitySettings, synthetic_utility

CLASSES, PER_CLASS = 4, 6


def simulate(out: Path, algorithm: str = "fedktl", privacy: dict[str, Any] | None = None) -> Path:
    cfg = SimulationConfig(
        algorithm=algorithm,
        options={"server_epochs": 2} if algorithm == "fedktl" else {},
        dataset="synthetic",
        dataset_options={"samples": 160, "num_classes": CLASSES},
        partition="iid",
        clients=2,
        rounds=2,
        models="cnn4",
        generator="tiny",
        privacy=privacy,
        threads=1,
        out=out,
    )
    run_simulation(cfg, progress=False)
    return out


@pytest.fixture(scope="module")
def fedktl_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate(tmp_path_factory.mktemp("fedktl-run"))


def test_latents_centre_on_each_class_and_spread_with_the_strength() -> None:
    centres = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
    prior = lambda n, rng: torch.randn(n, 8, generator=rng) * 2 + 5  # noqa: E731
    same, labels = perturbed_latents(centres, 4, 0.0, prior, torch.Generator().manual_seed(1))
    assert labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert torch.equal(same, centres.repeat_interleave(4, dim=0))
    spread, _ = perturbed_latents(centres, 2000, 0.5, prior, torch.Generator().manual_seed(1))
    around = spread.view(3, 2000, 8) - centres[:, None]
    assert float(around.mean()) == pytest.approx(0.0, abs=0.05)  # the prior's mean is taken out
    assert float(around.std()) == pytest.approx(0.5 * 2, rel=0.05)  # strength x the prior's spread


def test_the_cli_writes_one_dataset_in_three_agreeing_forms(fedktl_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "synthetic"
    assert main(["synthesize", str(fedktl_run), "--out", str(out), "--per-class", str(PER_CLASS), "--quiet"]) == 0
    with (out / "labels.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == CLASSES * PER_CLASS
    assert sorted({int(r["label"]) for r in rows}) == list(range(CLASSES))
    pixels = {r["file"]: np.asarray(Image.open(out / r["file"])) for r in rows}
    assert all(p.shape == (28, 28) and p.dtype == np.uint8 for p in pixels.values())
    pfl = load_pfl_folder(out / "pfl").clients[0]
    assert pfl.num_train + pfl.num_test == CLASSES * PER_CLASS and pfl.num_train == CLASSES * PER_CLASS * 3 // 4
    png = np.stack([p for p in pixels.values()]).astype(np.float32) / 127.5 - 1
    stored = torch.cat([pfl.train_x, pfl.test_x]).numpy()[:, 0]
    assert sorted(map(float, png.sum(axis=(1, 2)).round(3))) == sorted(map(float, stored.sum(axis=(1, 2)).round(3)))
    info = json.loads((out / "metadata.json").read_text())
    assert info["algorithm"] == "fedktl" and info["images"] == CLASSES * PER_CLASS and info["privacy"] is None
    assert "No differential privacy" in (out / "README.md").read_text()
    assert (out / "preview.png").is_file()


def test_a_private_federation_hands_its_epsilon_to_the_dataset(tmp_path: Path) -> None:
    run = simulate(tmp_path / "run", privacy={"epsilon": 6.0, "clip": 2.0})
    info = write_synthetic_dataset(source_from_run(run), SyntheticOptions(per_class=2), tmp_path / "data", False)
    spent = json.loads((run / "summary.json").read_text())["privacy"]["epsilon_spent_max"]
    assert info["privacy"]["epsilon_spent_max"] == pytest.approx(spent) and spent == pytest.approx(6.0, rel=1e-3)
    assert f"epsilon = {spent:.4g}" in (tmp_path / "data" / "README.md").read_text()


def test_only_a_finished_fedktl_federation_can_be_synthesised_from(fedktl_run: Path, tmp_path: Path) -> None:
    fedtgp = simulate(tmp_path / "fedtgp", algorithm="fedtgp")
    with pytest.raises(ConfigError, match="synthesize needs a finished FedKTL federation"):
        source_from_run(fedtgp)
    with pytest.raises(ConfigError, match="summary.json not found"):
        source_from_run(tmp_path / "nowhere")
    (fedtgp / "summary.json").write_text("{not json")
    with pytest.raises(ConfigError, match="is not a FedLoom simulation summary"):
        source_from_run(fedtgp)
    (fedtgp / "summary.json").write_text("{not json")
    with pytest.raises(ConfigError, match="is not a FedLoom simulation summary"):
        source_from_run(fedtgp)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="is not empty"):
        write_synthetic_dataset(source_from_run(fedktl_run), SyntheticOptions(), tmp_path / "full", False)
    with pytest.raises(ConfigError, match="w_dim"):
        write_synthetic_dataset(source_from_run(fedktl_run), SyntheticOptions(generator="builtin"), tmp_path / "x")


def test_cli_errors_are_messages_not_tracebacks(
    fedktl_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["synthesize", "--out", str(tmp_path / "a")]) == 2
    assert "either a simulation's output folder" in capsys.readouterr().err
    assert main(["synthesize", str(fedktl_run), "--out", str(tmp_path / "b"), "--per-class", "0"]) == 2
    assert "per_class" in capsys.readouterr().err


def test_utility_trains_a_fresh_model_on_the_synthetic_images_and_tests_on_real_splits(
    fedktl_run: Path, tmp_path: Path
) -> None:
    write_synthetic_dataset(source_from_run(fedktl_run), SyntheticOptions(per_class=10), tmp_path / "d", False)
    options = {"samples": 160, "num_classes": CLASSES}
    real = load_dataset(SimulationConfig(algorithm="local", dataset="synthetic", dataset_options=options, clients=2))
    report = synthetic_utility(tmp_path / "d", real, UtilitySettings(epochs=1))
    assert report["chance"] == 1 / CLASSES and report["synthetic_images"] == CLASSES * 10
    assert 0.0 <= report["accuracy"] <= 1.0 and len(report["per_client_accuracy"]) == 2


def test_the_cli_evaluates_on_a_pfllib_folder_and_records_it(
    fedktl_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = {"samples": 160, "num_classes": CLASSES}
    real = load_dataset(SimulationConfig(algorithm="local", dataset="synthetic", dataset_options=options, clients=2))
    save_pfl_folder(real, tmp_path / "real")
    argv = ["synthesize", str(fedktl_run), "--out", str(tmp_path / "s"), "--per-class", "5", "--epochs", "1"]
    assert main([*argv, "--evaluate-on", str(tmp_path / "real"), "--json", "--quiet"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["utility"]["chance"] == 1 / CLASSES and printed["utility"]["synthetic_images"] == CLASSES * 5
    assert json.loads((tmp_path / "s" / "metadata.json").read_text())["utility"] == printed["utility"]
