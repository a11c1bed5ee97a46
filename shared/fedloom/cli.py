"""The `fedloom` command. argparse lives here and in `fedloom.commands`; past them, only typed configs.

The service packages add their sub-commands (`aggregator`, `generator`, `agent`) through the entry-point
group `fedloom.commands`; where one is not installed, its sub-command says which package brings it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Container, Sequence
from importlib.metadata import entry_points
from typing import Any

from fedloom.commands.data import add_data
from fedloom.commands.demo import add_demo
from fedloom.commands.export import add_export
from fedloom.commands.federation import add_federation
from fedloom.commands.ops import add_ops
from fedloom.commands.probe import add_probe
from fedloom.commands.simulate import add_simulate
from fedloom.commands.synthesize import add_synthesize
from fedloom.errors import ConfigError, FedLoomError

COMMANDS: list[Callable[[Any], None]] = [
    add_simulate,
    add_data,
    add_demo,
    add_federation,
    add_probe,
    add_ops,
    add_export,
    add_synthesize,
]
SERVICE_PACKAGES = {"aggregator": "fedloom-aggregator", "generator": "fedloom-generator", "agent": "fedloom-agent"}
"""Sub-commands that service packages provide, and the distribution that brings each."""


def installed_services() -> dict[str, Any]:
    return {point.name: point for point in entry_points(group="fedloom.commands")}


def check_service_installed(argv: Sequence[str], installed: Container[str]) -> None:
    """A ConfigError naming the package when argv asks for a service sub-command that is not installed."""
    name = argv[0] if argv else ""
    if name in SERVICE_PACKAGES and name not in installed:
        package = SERVICE_PACKAGES[name]
        raise ConfigError(f"`fedloom {name}` needs the {package} package: pip install {package}")


def add_service_commands(sub: Any) -> None:
    installed = installed_services()
    for name in sorted(installed.keys() | SERVICE_PACKAGES.keys()):
        if name in installed:
            installed[name].load()(sub)
        else:  # listed in --help; main() refuses it with the package's name before parsing
            sub.add_parser(name, help=f"(not installed: pip install {SERVICE_PACKAGES[name]})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fedloom", description="Heterogeneous federated learning.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    add_service_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        check_service_installed(sys.argv[1:] if argv is None else argv, installed_services())
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
        return code
    except FedLoomError as exc:
        sys.stderr.write(f"fedloom: error: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
