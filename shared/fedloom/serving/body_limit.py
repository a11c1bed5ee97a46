"""ASGI middleware that caps every request body before it is read whole (JSON and msgpack alike).

A declared `Content-Length` over the cap is answered 413 at once, without reading a byte; a body sent
without one (chunked) is counted as it streams in and answered 413 as soon as it passes the cap (the
app then sees the client as gone), so no route ever holds more than the cap in memory.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedloom.serving.http_errors import ServiceError


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
        guard = StreamGuard(receive, send, self.max_bytes)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if not guard.refused:  # after our 413 the app's complaint about the cut-off body is moot
                raise


class StreamGuard:
    """Counts body bytes as the app reads them; past the cap it answers 413 and tells the app the client left."""

    def __init__(self, receive: Receive, send: Send, max_bytes: int) -> None:
        self.inner_receive, self.inner_send, self.max_bytes = receive, send, max_bytes
        self.received, self.started, self.refused = 0, False, False

    async def receive(self) -> Message:
        message = await self.inner_receive()
        if message["type"] != "http.request":
            return message
        self.received += len(message.get("body", b""))
        if self.received <= self.max_bytes:
            return message
        if not self.started and not self.refused:
            self.refused = True
            await refuse(self.inner_send, 413, f"body exceeds the limit of {self.max_bytes} bytes")
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the answer (413) is already out
        if message["type"] == "http.response.start":
            self.started = True
        await self.inner_send(message)
