"""`fedloom simulate`: flags and/or a YAML file -> SimulationConfig -> run_simulation."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from fedloom.algorithms.registry import algorithm_names
from fedloom.errors import ConfigError

SIM_FLAGS: dict[str, tuple[type, str]] = {
    "algorithm": (str, " | ".join(algorithm_names())),
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
    "threads": (
        int,
        "torch CPU threads in all (default: every core this process may use; with --ray, the cluster's CPUs); "
        "with workers, split evenly: workers x threads each never exceeds it, and fewer threads than workers "
        "is refused",
    ),
    "workers": (
        int,
        "train the clients on N worker processes on this machine; each owns its clients (model, optimizer, RNG, "
        "algorithm state) for the whole run and only the algorithm's messages cross. With 1 thread per worker a "
        "seed gives the same accuracies for any N as in one process",
    ),
    "ray": (
        str,
        "run the workers as Ray actors on the cluster at ADDRESS ('auto', HOST:PORT, or 'local' to start one "
        "here); needs pip install 'fedloom[ray]', fedloom and the data on every node; default workers: one per "
        "thread. A worker (or actor) that dies stops the run with an error naming its clients",
    ),
    "gpus_per_client": (
        float,
        "with --ray: the GPU fraction each client reserves (Ray's fractional num_gpus; an actor asks for its "
        "clients' sum, at most 1 or a whole number); actors with GPUs train on CUDA",
    ),
    "out": (Path, "output directory (metrics.jsonl, summary.json, accuracy.png)"),
}


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` pairs into a dict, values read as YAML scalars (10 -> int, 0.5 -> float)."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option expects KEY=VALUE, got {pair!r}")
        options[key.replace("-", "_")] = yaml.safe_load(value)
    return options


def add_simulate(sub: Any) -> None:
    p = sub.add_parser(
        "simulate", help="run a whole federation in this process (or on local / Ray workers: --workers, --ray)"
    )
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
    p.add_argument(
        "--dataset-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="data set setting, e.g. --dataset-option samples=800 (repeatable)",
    )
    p.add_argument(
        "--privacy",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="differentially private uploads, e.g. --privacy epsilon=8 --privacy clip=5 (delta=1e-5 unless "
        "given; or noise_multiplier=Z instead of epsilon); prototype and logit algorithms only",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    from fedloom.simulation import load_config, run_simulation

    overrides = {name: getattr(args, name) for name in SIM_FLAGS}
    if args.option:
        overrides["options"] = parse_options(args.option)
    if args.privacy:
        overrides["privacy"] = parse_options(args.privacy)
    if args.dataset_option:
        overrides["dataset_options"] = parse_options(args.dataset_option)
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
    for name, other in s["other_models"].items():
        logging.getLogger("fedloom").info(
            "%s models: best accuracy %.4f (round %d), final %.4f",
            name,
            other["best_accuracy"],
            other["best_round"],
            other["final_accuracy"],
        )
    return 0
