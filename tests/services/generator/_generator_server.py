"""Run a generator app under a real uvicorn server in a background thread, on a free loopback port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from fedloom.services.generator import GeneratorSettings, create_app
from servers import free_port

STARTUP_SECONDS = 30.0


@contextmanager
def running(settings: GeneratorSettings) -> Iterator[str]:
    """Serve `create_app(settings)` until the block ends; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"generator service on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def tiny_settings(**overrides: object) -> GeneratorSettings:
    """Settings for tests: the tiny generator on CPU, small limits so the limit checks are cheap to hit."""
    values: dict[str, object] = {
        "generator": "tiny",
        "device": "cpu",
        "max_batch_size": 8,
        "max_n_per_request": 64,
        "max_body_bytes": 64 * 1024,
        "worker_block_seconds": 0.2,
    }
    return GeneratorSettings(**(values | overrides))  # type: ignore[arg-type]
