"""Two processes running the same config and seed give identical results, bit for bit: nothing in the
training path may depend on per-process choices (timings, thread pools, hash seeds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def simulate_in_a_new_process(out: Path, algorithm: str) -> list[float]:
    args = ["simulate", "--algorithm", algorithm, "--dataset", "synthetic", "--clients", "3", "--rounds", "2"]
    args += ["--models", "hcnn8", "--seed", "3", "--threads", "1", "--out", str(out), "--quiet"]
    env = {**os.environ, "PYTHONHASHSEED": str(len(str(out)))}  # a different hash seed in each process
    subprocess.run([sys.executable, "-m", "fedloom.cli", *args], check=True, env=env, timeout=300)
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["accuracy"] for line in lines]


@pytest.mark.parametrize("algorithm", ["fedtgp", "fedktl"])
def test_two_processes_agree_exactly(tmp_path: Path, algorithm: str) -> None:
    first = simulate_in_a_new_process(tmp_path / "a", algorithm)
    second = simulate_in_a_new_process(tmp_path / "second-run", algorithm)
    assert len(first) == 2 and first == second
