"""Request bodies: msgpack only, capped in size before and while they are read, decoded into wire messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel

from fedloom.wire.codec import decode
from fedloom.wire.routes import MSGPACK
from fedloom_generator.errors import GeneratorRequestError, RequestTooLarge, UnsupportedMediaType

M = TypeVar("M", bound=BaseModel)


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing a wrong content type (415) and anything over `limit` bytes (413) early."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != MSGPACK:
        raise UnsupportedMediaType(f"content type must be {MSGPACK}, got {media_type or 'none'!r}")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise GeneratorRequestError(f"invalid Content-Length {declared!r}")
        if int(declared) > limit:
            raise RequestTooLarge(f"body of {declared} bytes exceeds the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def wire_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """FastAPI dependency: the request body as a `model` message (WireError -> 400 in the app's handler)."""

    async def dependency(request: Request) -> M:
        data = await read_capped_body(request, request.app.state.settings.max_body_bytes)
        return decode(data, model)

    return dependency
