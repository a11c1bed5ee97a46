import json
import subprocess
import sys
from pathlib import Path

import pytest

from fedloom.cli import main


def test_simulate_command_runs_from_flags(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "fedloom.cli",
        "simulate",
        "--algorithm",
        "fedtgp",
        "--dataset",
        "synthetic",
        "--clients",
        "4",
        "--rounds",
        "2",
        "--seed",
        "0",
        "--out",
        str(out),
        "-o",
        "server_epochs=5",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "best accuracy" in done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["options"] == {"server_epochs": 5}


def test_yaml_config_is_read_and_flags_override_it(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    config.write_text("algorithm: fedproto\ndataset: synthetic\nclients: 3\nrounds: 5\nseed: 2\n")
    assert main(["simulate", "--config", str(config), "--rounds", "1", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["rounds"] == 1 and summary["config"]["algorithm"] == "fedproto"


def test_fmnist_from_the_debian_files(tmp_path: Path) -> None:
    args = [
        "simulate",
        "--algorithm",
        "local",
        "--dataset",
        "fmnist",
        "--clients",
        "20",
        "--join-ratio",
        "0.05",
        "--rounds",
        "1",
        "--models",
        "cnn4",
        "--quiet",
        "--out",
        str(tmp_path),
    ]
    assert main(args) == 0
    row = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])
    assert row["accuracy"] > 0.1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--algorithm", "fedfoo"], "unknown algorithm 'fedfoo'"),
        (["--algorithm", "local", "--dataset", "imagenet"], "imagenet"),
        (["--algorithm", "local", "--models", "bigcnn"], "bigcnn"),
        (["--algorithm", "local", "--dataset", "pfl:/no/such/dir"], "/no/such/dir"),
        (["--algorithm", "local", "--clients", "5000"], "5000"),
        (["--algorithm", "local", "--lr", "0"], "lr"),
        (["--algorithm", "local", "--lr", "-0.1"], "lr"),
        (["--algorithm", "fedtgp", "-o", "lam=-1"], "lam"),
        (["--algorithm", "fedtgp", "-o", "nosuch=1"], "nosuch"),
    ],
)
def test_bad_input_fails_fast_with_a_clear_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["simulate", "--dataset", "synthetic", "--rounds", "1", "--quiet", *args])
    assert code == 2
    err = capsys.readouterr().err
    assert "fedloom: error:" in err and message in err
