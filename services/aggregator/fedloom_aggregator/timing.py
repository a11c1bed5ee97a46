"""Pure ASGI middleware timing every request by route template (no per-request task or body copy)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from fedloom_aggregator.metrics import Metrics


class TimingMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(route, time.perf_counter() - started)
