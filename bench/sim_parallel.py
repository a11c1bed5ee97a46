"""`make bench-parallel`: seconds per round with the clients on 1 and 2 local worker processes (1 thread
each), and on a local two-node Ray cluster (1 CPU per node), FMNIST20 + hcnn8, FedProto and FedTGP. With
`--htfllib CHECKOUT`, HtFLlib's own seconds per round with 2 threads (the whole machine), in the same run
(`htfllib_runner.py`); `vs_htfllib_2_threads` is its time over ours with 2 workers (target: 3x).

All runs of one invocation go one after another in this process (the driver), so they share the machine's
state; `identical_accuracy` says whether every placement gave the same accuracies round by round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.simulation.workers.plan import available_cores

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test suite's two-node Ray cluster
from machine import git_commit, speed_probe  # noqa: E402
from ray_cluster import two_node_cluster  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from htfllib_runner import run_htfllib  # noqa: E402

RAY_MODE = "ray_two_nodes"


def base_config(args: argparse.Namespace) -> SimulationConfig:
    fields: dict[str, Any] = {"algorithm": "fedproto", "models": "hcnn8", "rounds": args.rounds, "seed": args.seed}
    fields["dataset"] = f"pfl:{args.data}" if args.data else args.dataset
    if args.clients:
        fields["clients"] = args.clients
    return SimulationConfig.model_validate(fields)


def timed_run(cfg: SimulationConfig) -> dict[str, Any]:
    started = time.perf_counter()
    result = run_simulation(cfg, progress=False)
    seconds = [m.seconds for m in result.history]
    return {
        "seconds_per_round": statistics.median(seconds),  # round 0 pays warm-up; the median leaves it out
        "round_seconds": seconds,
        "setup_seconds": result.summary["setup_seconds"],
        "wall_seconds": time.perf_counter() - started,
        "accuracies": [m.accuracy for m in result.history],
        "best_accuracy": result.summary["best_accuracy"],
        "placement": [w["clients"] for w in result.summary["workers"]],
        "nodes": len({w["node"] or w["host"] for w in result.summary["workers"]}),
    }


def local_runs(base: SimulationConfig, algorithm: str, workers: list[int]) -> dict[str, dict[str, Any]]:
    runs = {}
    for count in workers:
        cfg = base.model_copy(update={"algorithm": algorithm, "workers": count, "threads": count})
        runs[str(count)] = timed_run(cfg)
        log(algorithm, str(count), runs[str(count)])
    return runs


def ray_runs(base: SimulationConfig, algorithms: list[str]) -> dict[str, dict[str, Any]]:
    """One cluster for all algorithms; this process joins it with the cluster's token."""
    runs = {}
    with two_node_cluster() as (address, env):
        os.environ.update({name: value for name, value in env.items() if name.startswith("RAY_")})
        for algorithm in algorithms:
            runs[algorithm] = timed_run(base.model_copy(update={"algorithm": algorithm, "ray": address, "threads": 2}))
            log(algorithm, RAY_MODE, runs[algorithm])
    return runs


def htfllib_runs(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """HtFLlib with 2 threads for each algorithm (first, so that a checkout that cannot run fails early)."""
    runs = {}
    for algorithm in args.algorithms:
        runs[algorithm] = run_htfllib(args.htfllib, args.htfllib_site, args.data, algorithm, args.htfllib_rounds, 2)
        sys.stderr.write(f"HtFLlib {algorithm}, 2 threads: {runs[algorithm]['seconds_per_round']:.2f} s/round\n")
    return runs


def htfllib_report(args: argparse.Namespace, runs: dict[str, Any], ours: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """HtFLlib's runs, and how many times longer its round takes than ours with 2 workers."""
    return {
        "htfllib": {"commit": git_commit(args.htfllib), "rounds": args.htfllib_rounds, "runs": runs},
        "vs_htfllib_2_threads": {
            a: run["seconds_per_round"] / ours[a]["2"]["seconds_per_round"] for a, run in runs.items() if "2" in ours[a]
        },
    }


def log(algorithm: str, mode: str, run: dict[str, Any]) -> None:
    sys.stderr.write(f"{algorithm} {mode}: {run['seconds_per_round']:.2f} s/round, accuracies {run['accuracies']}\n")


def summarise(runs: dict[str, dict[str, dict[str, Any]]], workers: list[int]) -> dict[str, Any]:
    """The keys the README quotes: seconds per round by algorithm and mode, speed-ups over 1 worker, and
    whether every mode gave the same accuracies."""
    first = str(workers[0])
    return {
        "workers": workers,
        "seconds_per_round": {a: {mode: run["seconds_per_round"] for mode, run in r.items()} for a, r in runs.items()},
        "speedup": {
            a: {
                mode: r[first]["seconds_per_round"] / run["seconds_per_round"]
                for mode, run in r.items()
                if mode != first
            }
            for a, r in runs.items()
        },
        "identical_accuracy": {
            a: all(run["accuracies"] == r[first]["accuracies"] for run in r.values()) for a, r in runs.items()
        },
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="FMNIST20 folder (a pfl: folder)")
    source.add_argument("--dataset", help="any other data set, e.g. synthetic (a smoke run)")
    p.add_argument("--clients", type=int, help="number of clients (default: the data set's)")
    p.add_argument("--out", type=Path, default=Path("bench/results/sim_parallel.json"))
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--algorithms", nargs="+", default=["fedproto", "fedtgp"])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="local worker counts (1 thread each)")
    p.add_argument("--no-ray", action="store_true", help="skip the two-node Ray cluster")
    p.add_argument("--htfllib", type=Path, help="an HtFLlib checkout to time with 2 threads (needs --data)")
    p.add_argument("--htfllib-site", type=Path, help="PYTHONPATH folder with the packages HtFLlib imports")
    p.add_argument("--htfllib-rounds", type=int, default=10, help="HtFLlib rounds after its first (default: as ours)")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    if args.htfllib and not args.data:
        raise SystemExit("--htfllib needs --data (the FMNIST20 folder HtFLlib reads too)")
    base = base_config(args)
    probe = speed_probe()
    theirs = htfllib_runs(args) if args.htfllib else None
    runs = {algorithm: local_runs(base, algorithm, args.workers) for algorithm in args.algorithms}
    if not args.no_ray:
        for algorithm, run in ray_runs(base, args.algorithms).items():
            runs[algorithm][RAY_MODE] = run
    report = {
        "benchmark": f"{base.dataset}, hcnn8, E=1, B=10, lr=0.01, K=512, {args.rounds} rounds, seed {args.seed}",
        **summarise(runs, args.workers),
        "runs": runs,
        "ray_cluster": None if args.no_ray else "two `ray start` nodes on this machine, 1 CPU each",
        **(htfllib_report(args, theirs, runs) if theirs is not None else {}),
        "commit": git_commit(),
        "torch": torch.__version__,
        "cpu_cores": available_cores(),
        "machine_speed_before": probe,
        "load_average_after": os.getloadavg()[0],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
