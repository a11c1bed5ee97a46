"""Run the aggregator with uvicorn (TLS when a certificate and key are given)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from fedloom.services.aggregator.app import create_app
from fedloom.services.aggregator.settings import AggregatorSettings
from fedloom.services.tls import tls_files


def serve(
    host: str,
    port: int,
    settings: AggregatorSettings | None = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> None:
    """Serve until interrupted; TLS from the arguments, else from FEDLOOM_TLS_CERTFILE / FEDLOOM_TLS_KEYFILE."""
    settings = settings or AggregatorSettings()  # values come from the FEDLOOM_* environment
    tls = tls_files(certfile or settings.tls_certfile, keyfile or settings.tls_keyfile)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        access_log=settings.access_log,
        ssl_certfile=tls[0],
        ssl_keyfile=tls[1],
        timeout_graceful_shutdown=5,
    )
