"""Repeat one PFLlib algorithm on FMNIST20 to see the spread of its own figure, two runs side by side.

PFLlib seeds torch but neither numpy nor Python's `random`, and it draws each round's client order from numpy,
so its runs differ: a single PFLlib figure is one draw. This runs PFLlib's `main.py` (a checkout, PFLLIB; its
imports need the packages in PFLLIB_SITE, see `pfllib_side_by_side.py`) `--runs` times with the setting of
`pfl_fmnist.py` (cnn4, 20 clients, lr 0.01, batch 10, 50 rounds, 1 thread each) and records each run's best
accuracy as PFLlib's `average_data` reports it (for FedBABU that includes the final fine-tuned evaluation)
in bench/results/pfllib_reruns.json. `--logs` reads logs of runs already made with the printed command.

Usage: python bench/pfllib_repeat.py --pfllib ~/PFLlib --site /tmp/pflsite --algorithm FedBABU --runs 2
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from machine import git_commit, library_round_seconds, link_fmnist20  # noqa: E402

BEST = "mean for best accuracy:"


def command(algorithm: str, rounds: int, goal: str) -> list[str]:
    """PFLlib's command line for the setting of pfl_fmnist.py (it trains global_rounds + 1 times)."""
    flags = ["-data", "FMNIST20", "-m", "CNN", "-algo", algorithm, "-gr", str(rounds - 1), "-dev", "cpu"]
    return [sys.executable, "main.py", *flags, "-nc", "20", "-lr", "0.01", "-lbs", "10", "-ncl", "10", "-go", goal]


def parse(log: str) -> dict[str, Any]:
    """The best accuracy PFLlib reports and its median seconds per round."""
    best = [float(line.split(":")[1]) for line in log.splitlines() if line.startswith(BEST)]
    seconds = library_round_seconds(log)
    if not best:
        raise SystemExit(f"no {BEST!r} line: the run did not finish\n{log[-2000:]}")
    return {"best_accuracy": best[-1], "seconds_per_round": statistics.median(seconds) if seconds else None}


def one_thread_env(site: Path | None = None) -> dict[str, str]:
    """This environment with 1 torch thread, and `site` (the packages PFLlib imports) on PYTHONPATH if given."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"} | ({"PYTHONPATH": str(site)} if site else {})


def run_pair(args: argparse.Namespace, goals: list[str]) -> list[str]:
    """Runs side by side (1 thread each); their logs."""
    link_fmnist20(args.pfllib, args.data)
    env = one_thread_env(args.site)
    cwd = args.pfllib / "system"
    procs = [
        subprocess.Popen(command(args.algorithm, args.rounds, g), cwd=cwd, env=env, stdout=subprocess.PIPE, text=True)
        for g in goals
    ]
    return [p.communicate()[0] for p in procs]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pfllib", type=Path, help="PFLlib checkout")
    p.add_argument("--site", type=Path, help="PYTHONPATH folder with the packages PFLlib imports")
    p.add_argument("--data", type=Path, default=ROOT / "bench/data/fmnist20")
    p.add_argument("--algorithm", required=True, help="PFLlib's name, e.g. FedBABU")
    p.add_argument("--runs", type=int, default=2, help="new runs; those recorded with the same command are kept")
    p.add_argument("--pfllib-commit", help="PFLlib's commit when the checkout is not a git one (an export)")
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--logs", type=Path, nargs="+", help="logs of runs made with the printed command, instead")
    p.add_argument("--out", type=Path, default=ROOT / "bench/results/pfllib_reruns.json")
    args = p.parse_args()
    sys.stderr.write(" ".join(command(args.algorithm, args.rounds, "GOAL")) + "\n")
    if args.logs:
        logs = [path.read_text() for path in args.logs]
    elif args.pfllib is None:
        raise SystemExit("--pfllib (a PFLlib checkout) or --logs is needed")
    else:
        goals = [f"rerun{i}" for i in range(args.runs)]
        logs = [log for i in range(0, args.runs, 2) for log in run_pair(args, goals[i : i + 2])]
    report = json.loads(args.out.read_text()) if args.out.exists() else {}
    shown = " ".join(["python", *command(args.algorithm, args.rounds, "GOAL")[1:]])  # run in PFLlib's system/
    earlier = report.get(args.algorithm, {})
    runs = (earlier.get("runs", []) if earlier.get("command") == shown else []) + [parse(log) for log in logs]
    report[args.algorithm] = {
        "command": shown,
        "pfllib_commit": args.pfllib_commit or (git_commit(args.pfllib) if args.pfllib else None),
        "runs": runs,
        "best_accuracy_mean": statistics.mean(r["best_accuracy"] for r in runs),
        "setting": "FMNIST20, cnn4, 20 clients, join ratio 1, E=1, B=10, lr 0.01, 1 thread, two runs side by side",
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(json.dumps(report[args.algorithm], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
