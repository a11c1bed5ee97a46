"""`serve()`: run the generator service under uvicorn (what `fedloom generator serve` calls)."""

from __future__ import annotations

import uvicorn

from fedloom.serving.tls import tls_files
from fedloom_generator.app import create_app
from fedloom_generator.settings import GeneratorSettings, get_settings


def serve(host: str = "127.0.0.1", port: int = 8081, settings: GeneratorSettings | None = None) -> None:
    """Serve until interrupted; settings default to the `FEDLOOM_*` environment (HTTPS with FEDLOOM_TLS_*)."""
    settings = settings or get_settings()
    certfile, keyfile = tls_files(settings.tls_certfile, settings.tls_keyfile)
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="info", ssl_certfile=certfile, ssl_keyfile=keyfile
    )
