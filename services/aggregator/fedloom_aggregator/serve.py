"""Run the aggregator with uvicorn (TLS when a certificate and key are given)."""

from __future__ import annotations

import logging
import resource
from pathlib import Path
from typing import Any

import uvicorn

from fedloom.errors import ConfigError
from fedloom.serving.tls import tls_files
from fedloom_aggregator.api_workers import serve_workers
from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings

log = logging.getLogger("fedloom.aggregator")
OPEN_FILES_CAP = 1 << 20


def raise_open_file_limit() -> int:
    """Lift the soft limit on open files to the hard one and return it: every client waiting for a task holds
    a socket to the aggregator and one from it to Redis (1,000 agents: about 2,000 descriptors, where many
    systems start processes with a soft limit of 1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES_CAP if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_CAP)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft


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
    log.info("open-file limit: %d", raise_open_file_limit())
    if settings.workers > 1 and settings.redis_url is None:
        raise ConfigError("FEDLOOM_WORKERS > 1 needs FEDLOOM_REDIS_URL: replicas share their state through Redis")
    options: dict[str, Any] = {
        "log_level": "info",
        "access_log": settings.access_log,
        "ssl_certfile": tls[0],
        "ssl_keyfile": tls[1],
        "timeout_graceful_shutdown": 5,
    }
    if settings.workers > 1:  # a listening socket each (api_workers), so connections spread across them
        serve_workers(host, port, settings.workers, options)
    else:
        uvicorn.run(create_app(settings), host=host, port=port, **options)
