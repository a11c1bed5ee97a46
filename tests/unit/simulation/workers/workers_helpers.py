"""What the worker tests share: runs to compare, and each algorithm's test options."""

import json
from pathlib import Path
from typing import Any

from fedloom.simulation import SimulationConfig, run_simulation

COMPARED = ("round", "accuracy", "accuracy_std", "train_loss", "upload_bytes", "download_bytes", "clients", "server")
ALGORITHM_OPTIONS: dict[str, dict[str, Any]] = {"fedproto": {}, "fedtgp": {"server_epochs": 5}}


def metrics_rows(cfg: SimulationConfig, out: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run `cfg` into `out`; metrics.jsonl's rows without timings (what must not depend on where clients
    ran), and the summary."""
    result = run_simulation(cfg.model_copy(update={"out": out}), progress=False)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{key: row[key] for key in COMPARED} for row in rows], result.summary


def for_algorithm(cfg: SimulationConfig, algorithm: str) -> SimulationConfig:
    return cfg.model_copy(update={"algorithm": algorithm, "options": ALGORITHM_OPTIONS[algorithm]})
