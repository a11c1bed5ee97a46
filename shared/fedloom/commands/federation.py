"""`fedloom federation run`: create, start and follow a federation on a running aggregator (flags over env)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

RUN_FLAGS: dict[str, tuple[str, type, str]] = {
    "--server": ("server_url", str, "aggregator URL (FEDLOOM_SERVER_URL)"),
    "--config": ("federation_config", Path, "YAML/JSON federation config (FEDLOOM_FEDERATION_CONFIG)"),
    "--rounds": ("rounds", int, "override the file's rounds (FEDLOOM_ROUNDS)"),
    "--wait-clients": ("wait_clients", int, "enrolled clients to wait for (FEDLOOM_WAIT_CLIENTS)"),
    "--timeout": ("timeout_seconds", float, "seconds before giving up (FEDLOOM_TIMEOUT_SECONDS, default 3600)"),
}


def add_federation(sub: Any) -> None:
    p = sub.add_parser("federation", help="operate federations on a running aggregator")
    verbs = p.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run", help="wait for agents, create and start a federation, follow it to its end")
    for flag, (dest, kind, text) in RUN_FLAGS.items():
        run.add_argument(flag, dest=dest, type=kind, help=text)
    run.set_defaults(handler=run_federation_command)


def run_federation_command(args: argparse.Namespace) -> int:
    """The admin token comes from FEDLOOM_ADMIN_TOKEN only (never a flag: it would show in `ps`)."""
    from fedloom.ops.launcher import launch, load_launcher_settings

    settings = load_launcher_settings({dest: getattr(args, dest) for dest, *_ in RUN_FLAGS.values()})
    return 0 if launch(settings).status == "finished" else 1
