"""Run a generator app under a real uvicorn server in a background thread, on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fedloom_generator import GeneratorSettings, create_app
from servers import serving


@contextmanager
def running(settings: GeneratorSettings) -> Iterator[str]:
    """Serve `create_app(settings)` until the block ends; yields the base URL."""
    with serving(create_app(settings)) as url:
        yield url


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
