"""PFLlib and FedLoom at the same time, 1 thread each, on FMNIST20 with cnn4 (PFLlib's CNN), per algorithm.

Seconds per round only count against another system when both ran side by side; this does that for each
algorithm of `make bench-pfl`: PFLlib's `main.py` (a checkout, PFLLIB; its imports need the packages in a
PYTHONPATH folder: scikit-learn, scipy, joblib, threadpoolctl, cloudpickle, narwhals, h5py, calmsize and
`higher`, with FedPAC's cvxpy import made optional) runs `--rounds` iterations while `fedloom simulate` runs
beside it with the same setting (20 clients, join ratio 1, E=1, B=10, lr 0.01, Ditto with mu 0.1); ours is
stopped when PFLlib's run ends, and the rounds it finished by then count. Both medians and their ratio go to
bench/results/pfllib_side_by_side.json under the algorithm (earlier entries of other algorithms are kept).
Accuracies are not compared here (50-round runs: `make bench-pfl`).

Usage: python bench/pfllib_side_by_side.py --pfllib ~/PFLlib --site /tmp/pflsite fedala gpfl
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from machine import cpu_model, git_commit, library_round_seconds, link_fmnist20  # noqa: E402
from pfllib_repeat import command, one_thread_env  # noqa: E402

# ours -> (PFLlib's -algo, PFLlib's extra flags, our -o options, the speed target of issue 17)
ALGORITHMS: dict[str, tuple[str, list[str], list[str], float]] = {
    "fedavg": ("FedAvg", [], [], 1.5),
    "local": ("Local", [], [], 1.5),
    "fedala": ("FedALA", [], [], 2.0),
    "fedcp": ("FedCP", [], [], 2.0),
    "gpfl": ("GPFL", [], [], 2.0),
    "feddbe": ("FedDBE", [], [], 1.5),
    "ditto": ("Ditto", ["-mu", "0.1"], ["-o", "mu=0.1"], 1.5),
    "fedrep": ("FedRep", [], [], 1.5),
    "fedper": ("FedPer", [], [], 1.5),
    "fedbabu": ("FedBABU", [], [], 1.5),
}


def our_command(algorithm: str, options: list[str], out: Path) -> list[str]:
    fedloom = [sys.executable, "-m", "fedloom.cli", "simulate", "--algorithm", algorithm, "--dataset"]
    setting = ["--models", "cnn4", "--rounds", "1000", "--threads", "1", "--lr", "0.01", "--batch-size", "10"]
    return [*fedloom, f"pfl:{ROOT / 'bench/data/fmnist20'}", *setting, *options, "--out", str(out), "--quiet"]


def side_by_side(algorithm: str, args: argparse.Namespace) -> dict[str, Any]:
    """Both programs at once; PFLlib's and our per-round seconds while both ran."""
    pfllib_name, pfllib_flags, options, target = ALGORITHMS[algorithm]
    out = ROOT / "bench/results/runs" / f"side_{algorithm}"
    shutil.rmtree(out, ignore_errors=True)
    ours = subprocess.Popen(
        our_command(algorithm, options, out), env=one_thread_env(), cwd=ROOT, stdout=subprocess.DEVNULL
    )
    started = time.time()
    theirs = subprocess.run(
        [*command(pfllib_name, args.rounds, "side"), *pfllib_flags],
        cwd=args.pfllib / "system",
        env=one_thread_env(args.site),
        capture_output=True,
        text=True,
    )
    ended = time.time()
    ours.terminate()
    ours.wait(60)
    their_seconds = library_round_seconds(theirs.stdout)
    if not their_seconds:
        raise SystemExit(f"PFLlib {pfllib_name} printed no round:\n{theirs.stdout[-2000:]}{theirs.stderr[-2000:]}")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    our_seconds = [row["seconds"] for row in rows]
    pfllib_median, our_median = statistics.median(their_seconds), statistics.median(our_seconds)
    return {
        "pfllib_algorithm": pfllib_name,
        "pfllib_flags": pfllib_flags,
        "fedloom_options": options,
        "wall_seconds": round(ended - started, 1),
        "pfllib_seconds_per_round": their_seconds,
        "fedloom_seconds_per_round": our_seconds,
        "pfllib_median": pfllib_median,
        "fedloom_median": our_median,
        "speedup": round(pfllib_median / our_median, 2),
        "speedup_target": target,
        "meets_speed_target": pfllib_median / our_median >= target,
    }


def earlier_runs(previous: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The algorithm's earlier entry (without the per-round lists) and its own earlier runs, newest first."""
    if previous is None:
        return []
    kept = {k: v for k, v in previous.items() if k != "earlier_runs" and not k.endswith("_seconds_per_round")}
    return [kept, *previous.get("earlier_runs", [])]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("algorithms", nargs="*", default=list(ALGORITHMS), choices=list(ALGORITHMS), metavar="ALGORITHM")
    p.add_argument("--pfllib", type=Path, required=True, help="PFLlib checkout")
    p.add_argument("--site", type=Path, help="PYTHONPATH folder with the packages PFLlib imports")
    p.add_argument("--pfllib-commit", help="PFLlib's commit when the checkout is not a git one (an export)")
    p.add_argument("--data", type=Path, default=ROOT / "bench/data/fmnist20")
    p.add_argument("--rounds", type=int, default=12, help="PFLlib's iterations; ours runs as long as it does")
    p.add_argument("--out", type=Path, default=ROOT / "bench/results/pfllib_side_by_side.json")
    args = p.parse_args()
    link_fmnist20(args.pfllib, args.data)
    report = json.loads(args.out.read_text()) if args.out.exists() else {}
    runs = report.setdefault("algorithms", {})
    for algorithm in args.algorithms:
        entry = {"date": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), **side_by_side(algorithm, args)}
        runs[algorithm] = entry | {"earlier_runs": earlier_runs(runs.get(algorithm))}
        sys.stdout.write(f"{algorithm}: PFLlib {entry['pfllib_median']:.2f} s, FedLoom {entry['fedloom_median']:.2f} s")
        sys.stdout.write(f" -> {entry['speedup']}x (target {entry['speedup_target']}x)\n")
    report |= {
        "benchmark": "FMNIST20, cnn4 (PFLlib's CNN), 20 clients, join ratio 1, E=1, B=10, lr 0.01; PFLlib and "
        "FedLoom at the same time, 1 thread each (bench/pfllib_side_by_side.py)",
        "commit": git_commit(),
        "pfllib_commit": args.pfllib_commit or git_commit(args.pfllib),
        "cpu_model": cpu_model(),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
