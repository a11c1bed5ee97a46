"""`make bench-privacy`: best accuracy against epsilon for FedTGP and FedProto with differentially private
uploads, FMNIST20 + hcnn8, 50 rounds, epsilon in {1, 4, 8, inf} at delta 1e-5, clip 10 (about the median
norm of hcnn8's features on FMNIST20 after a few local epochs: smaller bounds clip everything to the same
norm and shrink the prototypes, larger ones add noise for nothing).

Each run is its own process (1 thread), two side by side. Writes bench/results/privacy.json and
docs/privacy_tradeoff.png. The target: at epsilon = 8, within 2 points of the non-private run.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from fedloom.simulation import SimulationConfig, run_simulation

sys.path.insert(0, str(Path(__file__).parent))
from machine import git_commit, speed_probe  # noqa: E402

EPSILONS = [1.0, 4.0, 8.0, math.inf]
ALGORITHMS = ["fedtgp", "fedproto"]
TARGET_POINTS = 2.0


def run_one(algorithm: str, epsilon: float, args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(1)
    privacy = None if math.isinf(epsilon) else {"epsilon": epsilon, "delta": args.delta, "clip": args.clip}
    cfg = SimulationConfig(
        algorithm=algorithm,
        dataset=f"pfl:{args.data}",
        models="hcnn8",
        rounds=args.rounds,
        seed=args.seed,
        threads=1,
        privacy=privacy,
        out=Path("bench/results/runs") / f"privacy_{algorithm}_eps{epsilon:g}",
    )
    result = run_simulation(cfg, progress=False)
    s = result.summary
    return {
        "algorithm": algorithm,
        "epsilon": None if math.isinf(epsilon) else epsilon,
        "best_accuracy": s["best_accuracy"],
        "final_accuracy": s["final_accuracy"],
        "accuracy_by_round": [m.accuracy for m in result.history],
        "noise_multiplier": None if s["privacy"] is None else s["privacy"]["noise_multiplier"],
        "epsilon_spent_max": None if s["privacy"] is None else s["privacy"]["epsilon_spent_max"],
        "seconds_per_round": s["mean_round_seconds"],
        "commit": git_commit(),
    }


def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    pending = [(a, e) for a in args.algorithms for e in EPSILONS]
    results = []
    while pending:
        batch, pending = pending[: args.parallel], pending[args.parallel :]
        procs = [subprocess.Popen(command(args, a, e), stdout=subprocess.PIPE, text=True) for a, e in batch]
        for (algorithm, epsilon), proc in zip(batch, procs, strict=True):
            out, _ = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(f"{algorithm} at epsilon {epsilon} failed with exit code {proc.returncode}")
            results.append(json.loads(out))
            sys.stderr.write(f"{algorithm} epsilon {epsilon}: best {results[-1]['best_accuracy']:.4f}\n")
    return results


def command(args: argparse.Namespace, algorithm: str, epsilon: float) -> list[str]:
    flags = {"--data": args.data, "--rounds": args.rounds, "--clip": args.clip, "--delta": args.delta}
    flags |= {"--seed": args.seed, "--one": algorithm, "--epsilon": epsilon}
    return [sys.executable, __file__, *(str(x) for pair in flags.items() for x in pair)]


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per algorithm: each epsilon's best accuracy, the gap to the non-private run in points, target met."""
    out: dict[str, Any] = {}
    for algorithm in ALGORITHMS:
        mine = {
            ("inf" if r["epsilon"] is None else f"{r['epsilon']:g}"): r for r in runs if r["algorithm"] == algorithm
        }
        baseline = mine["inf"]["best_accuracy"]
        gaps = {eps: round(100 * (baseline - r["best_accuracy"]), 2) for eps, r in mine.items()}
        out[algorithm] = {"best_accuracy": {e: r["best_accuracy"] for e, r in mine.items()}, "gap_points": gaps}
        out[algorithm]["meets_target_at_epsilon_8"] = gaps["8"] <= TARGET_POINTS
    return out


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for algorithm in ALGORITHMS:
        mine = sorted((r for r in runs if r["algorithm"] == algorithm), key=lambda r: r["epsilon"] or math.inf)
        private = [r for r in mine if r["epsilon"] is not None]
        line = ax.plot(
            [r["epsilon"] for r in private], [r["best_accuracy"] for r in private], marker="o", label=algorithm
        )
        baseline = next(r["best_accuracy"] for r in mine if r["epsilon"] is None)
        ax.axhline(baseline, linestyle="--", color=line[0].get_color(), alpha=0.6, label=f"{algorithm}, no privacy")
    ax.set(
        xscale="log",
        xlabel="epsilon per client (delta = 1e-5)",
        ylabel="best test accuracy",
        title="FMNIST20, hcnn8, 50 rounds: accuracy against privacy",
    )
    private_epsilons = sorted({r["epsilon"] for r in runs if r["epsilon"] is not None})
    ax.set_xticks(private_epsilons, [f"{e:g}" for e in private_epsilons])
    ax.minorticks_off()
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", type=Path, required=True, help="FMNIST20 pfl folder (fedloom data partition fmnist20)")
    p.add_argument("--out", type=Path, default=Path("bench/results/privacy.json"))
    p.add_argument("--plot", type=Path, default=Path("docs/privacy_tradeoff.png"))
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--clip", type=float, default=10.0)
    p.add_argument("--delta", type=float, default=1e-5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--algorithms", nargs="+", default=ALGORITHMS, choices=ALGORITHMS, help="the others' runs are kept")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--epsilon", type=float, default=math.inf, help=argparse.SUPPRESS)
    return p.parse_args()


def main() -> int:
    args = parse_args()
    if args.one:
        json.dump(run_one(args.one, args.epsilon, args), sys.stdout)
        return 0
    probe, commit = speed_probe(), git_commit()
    runs = run_all(args)
    if args.out.exists():  # a run of some algorithms keeps the others' last runs
        runs += [r for r in json.loads(args.out.read_text())["runs"] if r["algorithm"] not in args.algorithms]
    report = {
        "benchmark": f"FMNIST20 ({args.data}), hcnn8, 20 clients, {args.rounds} rounds, join ratio 1, "
        f"clip {args.clip}, delta {args.delta}, seed {args.seed}; local DP of every upload (per-sample rows "
        "clipped, Gaussian noise on per-class sums and counts), epsilon by dp-accounting's RDP accountant",
        "commit": commit,
        "machine_speed_before": probe,
        "summary": summarise(runs),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    plot(runs, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
