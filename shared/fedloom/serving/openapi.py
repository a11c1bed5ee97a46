"""OpenAPI descriptions of msgpack bodies, which FastAPI cannot infer from routes that read raw bytes."""

from __future__ import annotations

from typing import Any

from fedloom.wire.routes import MSGPACK

_BINARY = {MSGPACK: {"schema": {"type": "string", "format": "binary"}}}
MSGPACK_REQUEST: dict[str, Any] = {"requestBody": {"required": True, "content": _BINARY}}
MSGPACK_REPLY: dict[str, Any] = {"responses": {"200": {"content": _BINARY}}}
MSGPACK_IO: dict[str, Any] = MSGPACK_REQUEST | MSGPACK_REPLY
