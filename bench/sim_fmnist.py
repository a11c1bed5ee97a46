"""`make bench-sim`: FedLoom's simulator on FMNIST20 with hcnn8, against HtFLlib's published figures.

Each algorithm runs in its own process (so peak RSS is its own), then, in the same process, the bare
PyTorch loop of `bare_loop.py` on freshly built identical clients gives the overhead ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.simulation.setup import build_contexts, load_dataset

sys.path.insert(0, str(Path(__file__).parent))
from bare_loop import bare_seconds_per_round  # noqa: E402
from machine import speed_probe  # noqa: E402

CORE = ["local", "fedproto", "fedtgp", "fedktl"]  # with the bare-loop overhead ratio
ALGORITHMS = [*CORE, "fd", "lg", "fedgh", "fml", "fedkd", "fedmrl", "fedgen", "fedl2g"]
HTFLLIB = {  # ../shared/reference/htfllib_fmnist.md, 1 thread, 50 rounds, two runs side by side
    "local": {"best_accuracy": 0.9521, "seconds_per_round": 13.6},
    "fedproto": {"best_accuracy": 0.9504, "seconds_per_round": 12.2},
    "fedtgp": {"best_accuracy": 0.9541, "seconds_per_round": 18.5},
    "fd": {"best_accuracy": 0.9550, "seconds_per_round": 13.7},
    "lg": {"best_accuracy": 0.9510, "seconds_per_round": 13.0},
    "fedgh": {"best_accuracy": 0.9404, "seconds_per_round": 18.2},
}


def pick_generator(wanted: str) -> str:
    """The asked-for generator for FedKTL, or 'tiny' when the built-in weights are not there (noted in JSON)."""
    from fedloom.generation.backends import load_generator

    try:
        load_generator(wanted)
        return wanted
    except Exception:  # missing weights: fall back, and the result records which generator ran
        return "tiny"


def run_one(algorithm: str, data: Path, rounds: int, threads: int, bare_rounds: int, generator: str) -> dict[str, Any]:
    torch.set_num_threads(threads)
    generator = pick_generator(generator) if algorithm == "fedktl" else "tiny"
    cfg = SimulationConfig(
        generator=generator,
        algorithm=algorithm,
        dataset=f"pfl:{data}",
        models="hcnn8",
        rounds=rounds,
        local_epochs=1,
        batch_size=10,
        lr=0.01,
        feature_dim=512,
        seed=0,
        threads=threads,
        out=Path("bench/results/runs") / f"sim_fmnist_{algorithm}",
    )
    result = run_simulation(cfg, progress=True)
    seconds = statistics.median(m.seconds for m in result.history)
    bare = None
    if algorithm in CORE:
        contexts = build_contexts(cfg, load_dataset(cfg), torch.device("cpu"))
        bare = bare_seconds_per_round(contexts, algorithm, bare_rounds)
    s = result.summary
    return {
        "best_accuracy": s["best_accuracy"],
        "best_round": s["best_round"],
        "final_accuracy": s["final_accuracy"],
        "rounds": s["rounds"],
        "seconds_per_round": seconds,  # median over rounds (round 0 pays one-time imports and warm-up)
        "mean_seconds_per_round": statistics.mean(m.seconds for m in result.history),
        "bare_seconds_per_round": bare,
        "overhead_ratio": seconds / bare if bare else None,
        "threads": threads,
        "peak_rss_mb": s["peak_rss_mb"],
        "htflib": HTFLLIB.get(algorithm),
        "generator": generator if algorithm == "fedktl" else None,
    }


def one_command(args: argparse.Namespace, algorithm: str) -> list[str]:
    flags = {
        "--data": args.data,
        "--rounds": args.rounds,
        "--threads": args.threads,
        "--bare-rounds": args.bare_rounds,
        "--generator": args.generator,
        "--one": algorithm,
    }
    return [sys.executable, __file__, *(str(x) for pair in flags.items() for x in pair)]


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Each algorithm in its own process, `--parallel` of them at a time (each with its own threads)."""
    results: dict[str, Any] = {}
    pending = list(args.algorithms)
    while pending:
        batch, pending = pending[: args.parallel], pending[args.parallel :]
        procs = {a: subprocess.Popen(one_command(args, a), stdout=subprocess.PIPE, text=True) for a in batch}
        for algorithm, proc in procs.items():
            out, _ = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(f"{algorithm} failed with exit code {proc.returncode}")
            results[algorithm] = json.loads(out)
            sys.stderr.write(f"{algorithm}: {results[algorithm]}\n")
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", type=Path, required=True, help="FMNIST20 folder (partition_fmnist.py)")
    p.add_argument("--out", type=Path, default=Path("bench/results/sim_fmnist.json"))
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--bare-rounds", type=int, default=3)
    p.add_argument("--algorithms", nargs="+", default=ALGORITHMS)
    p.add_argument("--generator", default="builtin", help="FedKTL's generator")
    p.add_argument("--parallel", type=int, default=2, help="runs side by side (HtFLlib's figures: 2, 1 thread each)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        json.dump(run_one(args.one, args.data, args.rounds, args.threads, args.bare_rounds, args.generator), sys.stdout)
        return 0
    probe = speed_probe()
    results = run_all(args)
    earlier = json.loads(args.out.read_text())["algorithms"] if args.out.exists() else {}
    report = {
        "benchmark": "FMNIST20, hcnn8, E=1, B=10, lr=0.01, K=512",
        "cpu_threads": args.threads,
        "side_by_side_runs": args.parallel,
        "torch": torch.__version__,
        "load_average_after": os.getloadavg()[0],
        "machine_speed_before": probe,
        "algorithms": {**earlier, **results},  # a run of some algorithms keeps the others' last results
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
