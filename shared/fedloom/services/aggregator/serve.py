"""Run the aggregator with uvicorn (TLS when a certificate and key are given)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from fedloom.services.aggregator.app import create_app
from fedloom.services.aggregator.settings import AggregatorSettings


def serve(
    host: str,
    port: int,
    settings: AggregatorSettings | None = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> None:
    app = create_app(settings or AggregatorSettings())  # values come from the FEDLOOM_* environment
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        timeout_graceful_shutdown=5,
    )
