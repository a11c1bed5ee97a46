"""The generator service: `/v1/info`, `/v1/latents`, `/v1/images` over HTTP, plus a Redis-stream worker.

`create_app(settings)` builds the FastAPI app; `serve(host, port, settings)` runs it under uvicorn.
"""

from fedloom_generator.app import create_app
from fedloom_generator.serve import serve
from fedloom_generator.settings import GeneratorSettings, get_settings

__all__ = ["GeneratorSettings", "create_app", "get_settings", "serve"]
