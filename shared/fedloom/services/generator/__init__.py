"""The generator service: `/v1/info`, `/v1/latents`, `/v1/images` over HTTP, plus a Redis-stream worker.

`create_app(settings)` builds the FastAPI app; `serve(host, port, settings)` runs it under uvicorn.
"""

from fedloom.services.generator.app import create_app
from fedloom.services.generator.serve import serve
from fedloom.services.generator.settings import GeneratorSettings, get_settings

__all__ = ["GeneratorSettings", "create_app", "get_settings", "serve"]
