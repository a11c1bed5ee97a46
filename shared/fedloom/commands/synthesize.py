"""`fedloom synthesize`: a labelled synthetic image dataset from a finished FedKTL federation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fedloom.commands.ops import connection_flags
from fedloom.errors import ConfigError


def add_synthesize(sub: Any) -> None:
    p = sub.add_parser(
        "synthesize",
        parents=[connection_flags()],
        help="write a labelled synthetic image dataset from a finished FedKTL federation",
        description="Images per class from the server's class latents, perturbed with the generator's prior. "
        "Source: a simulation's --out folder (RUN) or a federation on an aggregator (--federation ID).",
    )
    p.add_argument("run", nargs="?", type=Path, help="a finished simulation's output folder")
    p.add_argument("--federation", metavar="ID", help="a federation on the aggregator (--server) instead of RUN")
    p.add_argument("--out", type=Path, required=True, help="new folder for the dataset")
    p.add_argument("--per-class", type=int, default=100, help="images per class (default 100)")
    p.add_argument("--strength", type=float, default=0.5, help="latent perturbation strength (default 0.5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--generator", help="generator name or StyleGAN3 path (default: the one the federation used)")
    p.add_argument(
        "--evaluate-on",
        type=Path,
        metavar="PFL_DIR",
        help="then train a fresh model on the synthetic "
        "images alone and test it on this PFLlib folder's real test splits",
    )
    p.add_argument("--arch", default="cnn4", help="the fresh model's architecture for --evaluate-on")
    p.add_argument("--epochs", type=int, default=5, help="its epochs over the synthetic images")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_synthesize)


def load_source(args: argparse.Namespace) -> Any:
    from fedloom.synthesis import source_from_federation, source_from_run

    if (args.run is None) == (args.federation is None):
        raise ConfigError("give either a simulation's output folder (RUN) or --federation ID, not both")
    if args.run is not None:
        return source_from_run(args.run)
    from fedloom.ops.client import OperatorClient, load_operator_settings

    client = OperatorClient(load_operator_settings(args.server))
    try:
        return source_from_federation(client, args.federation)
    finally:
        client.close()


def run_synthesize(args: argparse.Namespace) -> int:
    from fedloom.synthesis import SyntheticOptions, write_synthetic_dataset

    try:
        options = SyntheticOptions(
            per_class=args.per_class, strength=args.strength, seed=args.seed, generator=args.generator
        )
    except ValidationError as exc:
        raise ConfigError(f"invalid synthesize options: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from exc
    info = write_synthetic_dataset(load_source(args), options, args.out, progress=not args.quiet)
    if args.evaluate_on is not None:
        info["utility"] = evaluate(args)
        (args.out / "metadata.json").write_text(json.dumps(info, indent=2) + "\n")
    if args.json:
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
    else:
        sys.stdout.write(summary_line(info, args.out))
    return 0


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from fedloom.data.pfl import load_pfl_folder
    from fedloom.synthesis.utility import UtilitySettings, synthetic_utility

    settings = UtilitySettings(arch=args.arch, epochs=args.epochs, seed=args.seed)
    return synthetic_utility(args.out, load_pfl_folder(args.evaluate_on), settings, progress=not args.quiet)


def summary_line(info: dict[str, Any], out: Path) -> str:
    lines = [f"{info['images']} images ({info['num_classes']} classes) -> {out}", info["privacy_statement"]]
    if "utility" in info:
        u = info["utility"]
        lines.append(
            f"fresh model trained on them: {u['accuracy']:.4f} on the real test splits (chance {u['chance']:.4f})"
        )
    return "\n".join(lines) + "\n"
