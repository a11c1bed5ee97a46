"""`fedloom export FEDERATION --out DIR`: metrics (CSV, JSON), plots and image grids of one federation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fedloom.commands.ops import connection_flags


def add_export(sub: Any) -> None:
    p = sub.add_parser(
        "export", parents=[connection_flags()], help="write a federation's metrics, plots and image grids to a folder"
    )
    p.add_argument("federation_id")
    p.add_argument("--out", type=Path, required=True, help="folder to write (created if missing)")
    p.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    from fedloom.ops.client import OperatorClient, load_operator_settings
    from fedloom.ops.export import export_federation

    client = OperatorClient(load_operator_settings(args.server))
    try:
        summary = export_federation(client, args.federation_id, args.out)
    finally:
        client.close()
    if args.json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        listed = "\n".join(f"  {name}" for name in summary["files"])
        sys.stdout.write(f"federation {args.federation_id} ({summary['rounds']} rounds) -> {args.out}\n{listed}\n")
    return 0
