"""`fedloom aggregator --host H --port P`: the aggregator service (settings from FEDLOOM_* variables)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_aggregator(sub: Any) -> None:
    p = sub.add_parser("aggregator", help="serve the aggregator REST API (settings: FEDLOOM_* variables)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--certfile", type=Path, help="TLS certificate (PEM)")
    p.add_argument("--keyfile", type=Path, help="TLS private key (PEM)")
    p.set_defaults(handler=run_aggregator)


def run_aggregator(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from fedloom.errors import ConfigError
    from fedloom_aggregator.serve import serve
    from fedloom_aggregator.settings import AggregatorSettings

    try:
        settings = AggregatorSettings()
    except ValidationError as exc:
        raise ConfigError(f"aggregator settings: {exc.errors(include_url=False)} (set FEDLOOM_ADMIN_TOKEN)") from exc
    serve(args.host, args.port, settings, args.certfile, args.keyfile)
    return 0
