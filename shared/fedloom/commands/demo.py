"""`fedloom demo`: a real local federation of services on this machine (see fedloom.ops.demo)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="run a local federation: aggregator, generator and agents as processes")
    p.add_argument("--out", type=Path, default=Path("runs/demo"))
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--algorithm", default="fedktl")
    p.add_argument("--models", default="hcnn8")
    p.add_argument("--dataset", default="auto", help="fmnist, synthetic or auto (fmnist when installed)")
    p.add_argument("--generator", default="builtin", help="builtin, tiny or a StyleGAN3 .pkl / folder")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from fedloom.ops.demo import DemoSettings, run_demo

    settings = DemoSettings(
        out=args.out,
        clients=args.clients,
        rounds=args.rounds,
        algorithm=args.algorithm,
        models=args.models,
        dataset=args.dataset,
        generator=args.generator,
        seed=args.seed,
    )
    summary = run_demo(settings)
    return 0 if summary["status"] == "finished" else 1
