"""The `fedloom` command. argparse lives here and in `fedloom.commands`; past them, only typed configs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from fedloom.commands.agent import add_agent
from fedloom.commands.aggregator import add_aggregator
from fedloom.commands.demo import add_demo
from fedloom.commands.export import add_export
from fedloom.commands.federation import add_federation
from fedloom.commands.generator import add_generator
from fedloom.commands.ops import add_ops
from fedloom.commands.probe import add_probe
from fedloom.commands.simulate import add_simulate
from fedloom.errors import FedLoomError

COMMANDS: list[Callable[[Any], None]] = [add_simulate, add_generator, add_aggregator, add_agent, add_demo]
COMMANDS += [add_federation, add_probe, add_ops, add_export]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fedloom", description="Heterogeneous federated learning.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except FedLoomError as exc:
        sys.stderr.write(f"fedloom: error: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
