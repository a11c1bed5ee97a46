"""The `fedloom` command. argparse lives here only; everything past `main()` gets typed configs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from fedloom.errors import FedLoomError

SIM_FLAGS: dict[str, tuple[type, str]] = {
    "algorithm": (str, "local | fedproto | fedtgp | fedktl"),
    "dataset": (str, "synthetic | fmnist | mnist | cifar10 | cifar100 | folder:DIR | pfl:DIR"),
    "data_dir": (Path, "directory of the dataset files (default: the dataset's usual place)"),
    "partition": (str, "iid | pat:K (K classes per client) | dir:BETA (Dirichlet)"),
    "clients": (int, "number of clients"),
    "join_ratio": (float, "fraction of clients training each round"),
    "rounds": (int, "number of rounds"),
    "local_epochs": (int, "local epochs per round"),
    "batch_size": (int, "local batch size"),
    "lr": (float, "client learning rate (SGD)"),
    "models": (str, "model group: hcnn8 | cnn4 | cpu4 | htfe8 | ..."),
    "feature_dim": (int, "feature dimension K"),
    "seed": (int, "seed of every random choice"),
    "generator": (str, "FedKTL's generator: 'tiny' or a StyleGAN3 .pkl / converted folder"),
    "device": (str, "auto | cpu | cuda"),
    "threads": (int, "torch CPU threads"),
    "out": (Path, "output directory (metrics.jsonl, summary.json, accuracy.png)"),
}


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` pairs into a dict, values read as YAML scalars (10 -> int, 0.5 -> float)."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise FedLoomError(f"--option expects KEY=VALUE, got {pair!r}")
        options[key.replace("-", "_")] = yaml.safe_load(value)
    return options


def add_simulate(sub: Any) -> None:
    p = sub.add_parser("simulate", help="run a whole federation in this process")
    p.add_argument("--config", type=Path, help="YAML file of settings (flags override it)")
    for name, (kind, text) in SIM_FLAGS.items():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help=text)
    p.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="algorithm option, e.g. -o lam=10 (repeatable)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    from fedloom.simulation import load_config, run_simulation

    overrides = {name: getattr(args, name) for name in SIM_FLAGS}
    if args.option:
        overrides["options"] = parse_options(args.option)
    cfg = load_config(args.config, overrides)
    result = run_simulation(cfg, progress=not args.quiet)
    s = result.summary
    logging.getLogger("fedloom").info(
        "best accuracy %.4f (round %d), final %.4f, %.2f s/round",
        s["best_accuracy"],
        s["best_round"],
        s["final_accuracy"],
        s["mean_round_seconds"],
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fedloom", description="Heterogeneous federated learning.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


COMMANDS: list[Callable[[Any], None]] = [add_simulate]


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except FedLoomError as exc:
        sys.stderr.write(f"fedloom: error: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
