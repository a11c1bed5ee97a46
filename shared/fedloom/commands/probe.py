"""`fedloom probe URL`: exit 0 when URL answers 2xx (container health checks; no curl in the images)."""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from typing import Any


def add_probe(sub: Any) -> None:
    p = sub.add_parser("probe", help="exit 0 if URL answers 2xx within --timeout seconds, else 1")
    p.add_argument("url", help="e.g. http://127.0.0.1:8080/readyz")
    p.add_argument("--timeout", type=float, default=3.0)
    p.set_defaults(handler=run_probe)


def run_probe(args: argparse.Namespace) -> int:
    try:
        with urllib.request.urlopen(args.url, timeout=args.timeout) as response:  # noqa: S310 (operator's URL)
            healthy = 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        sys.stderr.write(f"fedloom probe: {args.url}: {exc}\n")
        return 1
    return 0 if healthy else 1
