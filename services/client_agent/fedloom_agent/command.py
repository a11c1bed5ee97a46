"""`fedloom agent`: run a client agent against an aggregator (flags override FEDLOOM_* variables)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fedloom.errors import FedLoomError

if TYPE_CHECKING:
    from fedloom_agent.settings import AgentSettings

log = logging.getLogger("fedloom.agent")

AGENT_FLAGS: dict[str, tuple[str, type, str]] = {
    "--server": ("server_url", str, "aggregator URL, e.g. http://localhost:8000 (FEDLOOM_SERVER_URL)"),
    "--data": ("data", str, "NAME[,key=value...], e.g. synthetic,clients=3,index=0 or pfl:DIR,index=2"),
    "--model": ("model", str, "GROUP (member = data index), GROUP:INDEX or an architecture (default hcnn8)"),
    "--state-dir": ("state_dir", Path, "checkpoint and credentials folder (default .fedloom-agent)"),
    "--device": ("device", str, "cpu | cuda | auto (default cpu)"),
    "--name": ("name", str, "a name the operators see"),
    "--client-id": ("client_id", int, "the client id --api-token was issued for"),
    "--poll-wait": ("poll_wait", float, "seconds one long-poll may wait (default 30)"),
    "--max-retries": ("max_retries", int, "retries of a failed request (default 5)"),
    "--backoff-base": ("backoff_base", float, "first retry waits up to this many seconds (default 0.5)"),
    "--backoff-cap": ("backoff_cap", float, "longest wait between retries (default 30)"),
    "--request-timeout": ("request_timeout", float, "seconds per request (default 60)"),
}
TOKEN_FLAGS: dict[str, tuple[str, str]] = {
    "--enrollment-token": ("enrollment_token", "one-time enrolment token (FEDLOOM_ENROLLMENT_TOKEN), first start"),
    "--api-token": ("api_token", "API token of an earlier enrolment (FEDLOOM_API_TOKEN)"),
}


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    tokens = parser.add_mutually_exclusive_group()
    for flag, (dest, text) in TOKEN_FLAGS.items():
        tokens.add_argument(flag, dest=dest, help=text)
    for flag, (dest, kind, text) in AGENT_FLAGS.items():
        parser.add_argument(flag, dest=dest, type=kind, help=text)


def add_agent(sub: Any) -> None:
    p = sub.add_parser("agent", help="run a client agent: enrol, poll, train, upload, report")
    add_agent_arguments(p)
    p.set_defaults(handler=run_agent)


def build_agent_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fedloom agent", description="FedLoom client agent.")
    add_agent_arguments(parser)
    return parser


def settings_from_args(args: argparse.Namespace) -> AgentSettings:
    """The flags given, over the FEDLOOM_* environment, as validated settings."""
    from fedloom_agent.settings import load_settings

    dests = [dest for dest, *_ in AGENT_FLAGS.values()] + [dest for dest, _ in TOKEN_FLAGS.values()]
    return load_settings({dest: getattr(args, dest) for dest in dests})


def run_agent(args: argparse.Namespace) -> int:
    from fedloom_agent.agent import Agent
    from fedloom_agent.health import probe_server

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the agent's own log
    settings = settings_from_args(args)
    started: list[Agent] = []  # probes answer (not ready) while the data loads
    with probe_server(settings.health_host, settings.health_port, lambda: any(a.client_id >= 0 for a in started)):
        started.append(Agent(settings))
        started[0].run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`fedloom agent ...` as a program of its own (`python -m fedloom_agent`); returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    args = build_agent_parser().parse_args(argv)
    try:
        return run_agent(args)
    except FedLoomError as exc:
        log.error("fedloom agent: %s", exc)
        return 2
