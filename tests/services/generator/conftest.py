"""Fixtures of the generator-service tests: a live HTTP server (tiny generator), real Redis and S3 servers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for the shared `servers` helpers
from _generator_server import running, tiny_settings  # noqa: E402


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running(tiny_settings()) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30.0) as c:
        yield c
