"""Operator commands against a running aggregator: `fedloom status`, `fedloom clients list`,
`fedloom federations list|show|start`. Each prints a table, or JSON with --json; the aggregator is found
through --server or FEDLOOM_URL, the admin token comes from FEDLOOM_ADMIN_TOKEN."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fedloom.commands.tables import render_table
from fedloom.ops.client import OperatorClient, load_operator_settings
from fedloom.ops.formatting import client_row, federation_row

Handler = Callable[[OperatorClient, argparse.Namespace], tuple[Any, str]]


def connection_flags() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", metavar="URL", help="aggregator URL (default: FEDLOOM_URL or 127.0.0.1:8080)")
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return common


def add_ops(sub: Any) -> None:
    common = connection_flags()
    status = sub.add_parser("status", parents=[common], help="the aggregator's health, clients and federations")
    status.set_defaults(handler=operate(show_status))
    clients = sub.add_parser("clients", help="enrolled clients").add_subparsers(dest="action", required=True)
    clients.add_parser("list", parents=[common], help="list enrolled clients").set_defaults(
        handler=operate(list_clients)
    )
    federations = sub.add_parser("federations", help="federations").add_subparsers(dest="action", required=True)
    federations.add_parser("list", parents=[common], help="list federations").set_defaults(
        handler=operate(list_federations)
    )
    for name, handler, text in (("show", show_federation, "status and rounds"), ("start", start_federation, "start")):
        action = federations.add_parser(name, parents=[common], help=f"one federation: {text}")
        action.add_argument("federation_id")
        action.set_defaults(handler=operate(handler))


def operate(handler: Handler) -> Callable[[argparse.Namespace], int]:
    """Connect, run `handler`, print its JSON-able answer (--json) or its text."""

    def run(args: argparse.Namespace) -> int:
        client = OperatorClient(load_operator_settings(args.server))
        try:
            data, text = handler(client, args)
        finally:
            client.close()
        sys.stdout.write((json.dumps(data, indent=2) if args.json else text) + "\n")
        return 0

    return run


def show_status(client: OperatorClient, args: argparse.Namespace) -> tuple[Any, str]:
    health, clients, federations = client.health(), client.clients(), client.federations()
    now = time.time()
    active = sum(client_row(c, now).activity == "active" for c in clients)
    statuses = dict(Counter(f.status for f in federations))
    data = {"server": client.url, **health, "clients": len(clients), "active_clients": active, "federations": statuses}
    checks = ", ".join(f"{name} {'ok' if ok else 'DOWN'}" for name, ok in health["checks"].items())
    state = f"{'healthy' if health['healthy'] else 'unhealthy'}, {'ready' if health['ready'] else 'NOT ready'}"
    counts = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none"
    running = [
        f"{f.federation_id} ({f.config.algorithm}, round {f.current_round}/{f.config.rounds})"
        for f in federations
        if f.status == "running"
    ]
    lines = [
        f"aggregator   {client.url}  {state} ({checks})",
        f"clients      {len(clients)} enrolled, {active} active in the last 5 min",
        f"federations  {len(federations)}: {counts}",
        *(f"running      {r}" for r in running),
    ]
    return data, "\n".join(lines)


def list_clients(client: OperatorClient, args: argparse.Namespace) -> tuple[Any, str]:
    infos = client.clients()
    now = time.time()
    rows = [client_row(c, now) for c in infos]
    headers = ["client", "name", "architecture", "state", "last seen", "rounds", "last accuracy", "bytes sent"]
    table = [
        [r.client_id, r.name, r.architecture, r.activity, r.last_seen, r.rounds_joined, r.last_accuracy, r.bytes_sent]
        for r in rows
    ]
    return [c.model_dump(mode="json") for c in infos], render_table(headers, table, "(no clients enrolled)")


def list_federations(client: OperatorClient, args: argparse.Namespace) -> tuple[Any, str]:
    states = client.federations()
    headers = ["federation", "algorithm", "status", "rounds", "last accuracy", "best accuracy", "clients"]
    rows = [federation_row(s) for s in states]
    table = [
        [r.federation_id, r.algorithm, r.status, r.progress, r.last_accuracy, r.best_accuracy, r.clients] for r in rows
    ]
    return [s.model_dump(mode="json") for s in states], render_table(headers, table, "(no federations)")


def show_federation(client: OperatorClient, args: argparse.Namespace) -> tuple[Any, str]:
    from fedloom.ops.report import table

    state = client.federation(args.federation_id)
    row = federation_row(state)
    lines = [
        f"federation     {row.federation_id}  ({row.algorithm}, {row.status})",
        f"rounds         {row.progress}",
        f"accuracy       last {row.last_accuracy}, best {row.best_accuracy}",
        f"clients        {', '.join(map(str, state.clients)) or '-'}",
        f"privacy        {row.privacy}",
        "",
        table(state) if state.rounds else "(no finished rounds yet)",
    ]
    return state.model_dump(mode="json"), "\n".join(lines)


def start_federation(client: OperatorClient, args: argparse.Namespace) -> tuple[Any, str]:
    state = client.start(args.federation_id)
    text = f"federation {state.federation_id} is {state.status} with clients {', '.join(map(str, state.clients))}"
    return state.model_dump(mode="json"), text
