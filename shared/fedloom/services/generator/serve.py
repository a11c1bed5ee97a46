"""`serve()`: run the generator service under uvicorn (what `fedloom generator serve` calls)."""

from __future__ import annotations

import uvicorn

from fedloom.services.generator.app import create_app
from fedloom.services.generator.settings import GeneratorSettings, get_settings


def serve(host: str = "127.0.0.1", port: int = 8081, settings: GeneratorSettings | None = None) -> None:
    """Serve until interrupted; settings default to the `FEDLOOM_*` environment."""
    uvicorn.run(create_app(settings or get_settings()), host=host, port=port, log_level="info")
