"""HTTP routes of the generator service: thin (parse, call one engine method, return)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from fedloom.serving.openapi import MSGPACK_IO
from fedloom.wire.codec import encode
from fedloom.wire.generation import GeneratorInfo, ImageRequest, LatentRequest, Readiness
from fedloom.wire.routes import (
    GENERATOR_IMAGES,
    GENERATOR_INFO,
    GENERATOR_LATENTS,
    HEALTHZ,
    MSGPACK,
    PROMETHEUS,
    READYZ,
)
from fedloom_generator import metrics as metrics_text
from fedloom_generator.body import wire_body
from fedloom_generator.engine import GenerationEngine
from fedloom_generator.health import readiness

router = APIRouter()
Q = TypeVar("Q", bound=BaseModel)


def get_engine(request: Request) -> GenerationEngine:
    engine: GenerationEngine = request.app.state.engine
    return engine


EngineDep = Annotated[GenerationEngine, Depends(get_engine)]


async def msgpack_reply(method: Callable[[Q], BaseModel], message: Q) -> Response:
    """Run `method` off the event loop and answer with its encoded result."""
    body = await run_in_threadpool(lambda: encode(method(message)))
    return Response(content=body, media_type=MSGPACK)


@router.get(GENERATOR_INFO)
def info(engine: EngineDep) -> GeneratorInfo:
    return engine.info()


@router.post(GENERATOR_LATENTS, response_class=Response, openapi_extra=MSGPACK_IO)
async def latents(message: Annotated[LatentRequest, Depends(wire_body(LatentRequest))], engine: EngineDep) -> Response:
    """LatentRequest (z [n, z_dim] float32) -> LatentResponse (w [n, w_dim])."""
    return await msgpack_reply(engine.latents, message)


@router.post(GENERATOR_IMAGES, response_class=Response, openapi_extra=MSGPACK_IO)
async def images(message: Annotated[ImageRequest, Depends(wire_body(ImageRequest))], engine: EngineDep) -> Response:
    """ImageRequest (w [n, w_dim] float32, optional client shape) -> ImageResponse."""
    return await msgpack_reply(engine.images, message)


@router.get(HEALTHZ)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(READYZ, response_model=Readiness)
def readyz(request: Request) -> JSONResponse:
    state = readiness(request.app.state)
    return JSONResponse(state.model_dump(), status_code=200 if state.ready else 503)


@router.get(PROMETHEUS, response_class=PlainTextResponse)
def prometheus(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.app.state.metrics.render(), media_type=metrics_text.CONTENT_TYPE)
