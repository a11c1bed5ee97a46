"""`fedloom data partition fmnist20 DIR`: write a benchmark federation's client files (PFLlib folder layout)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

PRESETS = ("fmnist20",)


def add_data(sub: Any) -> None:
    p = sub.add_parser("data", help="prepare data sets: benchmark partitions in the PFLlib folder layout")
    verbs = p.add_subparsers(dest="verb", required=True)
    part = verbs.add_parser("partition", help="write a preset federation (train/<i>.npz, test/<i>.npz, config.json)")
    part.add_argument("preset", choices=PRESETS, help="fmnist20: the Fashion-MNIST federation of the benchmarks")
    part.add_argument("out", type=Path, help="folder to write (then use --dataset pfl:OUT)")
    part.add_argument("--idx-dir", type=Path, default=None, help="Fashion-MNIST IDX folder (Debian's by default)")
    part.add_argument("--stride", type=int, default=5, help="keep every STRIDE-th image of train + test (5)")
    part.add_argument("--clients", type=int, default=20)
    part.add_argument("--alpha", type=float, default=0.1, help="Dirichlet concentration of the label split")
    part.add_argument("--seed", type=int, default=1)
    part.add_argument("--train-ratio", type=float, default=0.75)
    part.add_argument("--batch-size", type=int, default=10, help="sets each client's minimum size, as in PFLlib")
    part.set_defaults(handler=run_partition)


def run_partition(args: argparse.Namespace) -> int:
    from fedloom.data.fmnist20 import Fmnist20Options, write_fmnist20
    from fedloom.data.idx import FMNIST_DIR

    options = Fmnist20Options(
        idx_dir=args.idx_dir or FMNIST_DIR,
        stride=args.stride,
        clients=args.clients,
        alpha=args.alpha,
        seed=args.seed,
        train_ratio=args.train_ratio,
        batch_size=args.batch_size,
    )
    summary = write_fmnist20(args.out, options)
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 0
