"""ASGI middleware that caps every request body before it is read whole (JSON and msgpack alike).

A declared `Content-Length` over the cap is answered 413 at once, without reading a byte; a body sent
without one (chunked) is counted as it streams in and refused with `PayloadTooLarge` (413 through the
app's error handler) as soon as it passes the cap, so no route ever holds more than the cap in memory.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedloom.services.http_errors import PayloadTooLarge, ServiceError


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, None when absent; ServiceError (400) when it is not a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            if not value.isdigit():
                raise ServiceError(f"invalid Content-Length {value.decode(errors='replace')!r}")
            return int(value)
    return None


async def refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail, "error": "PayloadTooLarge" if status == 413 else "ServiceError"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` (413), early when the length is declared."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            declared = declared_length(scope)
        except ServiceError as exc:
            await refuse(send, 400, str(exc))
            return
        if declared is not None and declared > self.max_bytes:
            await refuse(send, 413, f"body of {declared} bytes exceeds the limit of {self.max_bytes}")
            return
        await self.app(scope, self.counting(receive), send)

    def counting(self, receive: Receive) -> Receive:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(f"body exceeds the limit of {self.max_bytes} bytes")
            return message

        return counted
