"""`make bench-synthetic`: how useful FedKTL's synthetic dataset is, written to bench/results/synthetic.json.

A FMNIST20 FedKTL federation (hcnn8, built-in generator) runs `--rounds` rounds; `fedloom synthesize` then
writes `--per-class` images per class from its final class latents, a fresh cnn4 trains on those images
alone, and it is tested on the 20 clients' real test splits. Reported beside chance (1 / classes), the
majority class of the real test splits, and Local (each client's own model on its own test split, from the
same run's config without federation: bench/results/sim_fmnist.json's figure, not rerun here).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import torch

from fedloom.data.pfl import load_pfl_folder
from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.synthesis import SyntheticOptions, source_from_run, write_synthetic_dataset
from fedloom.synthesis.utility import UtilitySettings, synthetic_utility

sys.path.insert(0, str(Path(__file__).parent))
from machine import git_commit  # noqa: E402


def run_federation(args: argparse.Namespace, run: Path) -> dict[str, Any]:
    cfg = SimulationConfig(
        algorithm="fedktl",
        dataset=f"pfl:{args.data}",
        models="hcnn8",
        rounds=args.rounds,
        seed=args.seed,
        threads=args.threads,
        generator="builtin",
        out=run,
    )
    summary = run_simulation(cfg, progress=True).summary
    return {"best_accuracy": summary["best_accuracy"], "final_accuracy": summary["final_accuracy"]}


def majority_rate(data: Path) -> float:
    labels = torch.cat([c.test_y for c in load_pfl_folder(data).clients])
    return float(torch.bincount(labels).max()) / len(labels)


def recorded_local() -> float | None:
    path = Path("bench/results/sim_fmnist.json")
    if not path.is_file():
        return None
    return float(json.loads(path.read_text())["algorithms"]["local"]["best_accuracy"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", type=Path, required=True, help="FMNIST20 pfl folder")
    p.add_argument("--out", type=Path, default=Path("bench/results/synthetic.json"))
    p.add_argument("--work", type=Path, default=Path("bench/results/runs/synthetic"))
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--per-class", type=int, default=1000)
    p.add_argument("--strength", type=float, default=0.5)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    shutil.rmtree(args.work, ignore_errors=True)
    federation = run_federation(args, args.work / "run")
    options = SyntheticOptions(per_class=args.per_class, strength=args.strength, seed=args.seed)
    write_synthetic_dataset(source_from_run(args.work / "run"), options, args.work / "dataset")
    settings = UtilitySettings(arch="cnn4", epochs=args.epochs, seed=args.seed)
    utility = synthetic_utility(args.work / "dataset", load_pfl_folder(args.data), settings)
    report = {
        "benchmark": f"FMNIST20 ({args.data}), FedKTL with hcnn8 and the built-in generator, {args.rounds} rounds; "
        f"{args.per_class} synthetic images per class (strength {args.strength}); a fresh cnn4 trained "
        f"{args.epochs} epochs on them only, tested on the 20 clients' real test splits",
        "commit": git_commit(),
        "federation": federation,
        "synthetic_model_accuracy": utility["accuracy"],
        "chance": utility["chance"],
        "majority_class_rate": majority_rate(args.data),
        "local_recorded": recorded_local(),
        "utility": utility,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(json.dumps({k: v for k, v in report.items() if k != "utility"}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
