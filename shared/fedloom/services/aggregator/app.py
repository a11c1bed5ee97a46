"""The aggregator's FastAPI application: stores and coordinator built in the lifespan, errors mapped once."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from fedloom.errors import FedLoomError, WireError
from fedloom.services.aggregator.coordinator import Coordinator
from fedloom.services.aggregator.metrics import Metrics
from fedloom.services.aggregator.registry import ClientRegistry
from fedloom.services.aggregator.routes import admin, clients, health
from fedloom.services.aggregator.settings import AggregatorSettings
from fedloom.services.http_errors import status_of
from fedloom.stores import artifact_store_from_settings, state_store_from_url

log = logging.getLogger("fedloom.aggregator")


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FedLoomError)
    kind = "invalid message" if isinstance(exc, WireError) else type(exc).__name__
    return JSONResponse({"detail": str(exc), "error": kind}, status_code=status_of(exc))


def build_state(app: FastAPI, settings: AggregatorSettings) -> None:
    app.state.settings = settings
    app.state.store = state_store_from_url(settings.redis_url)
    app.state.artifacts = artifact_store_from_settings(
        settings.s3_endpoint,
        settings.s3_access_key,
        settings.s3_secret_key,
        settings.s3_bucket,
        settings.artifact_dir,
    )
    app.state.metrics = Metrics()
    app.state.registry = ClientRegistry(app.state.store)
    app.state.coordinator = Coordinator(
        app.state.store,
        app.state.artifacts,
        app.state.registry,
        generator_url=settings.generator_url,
        generation_jobs=settings.redis_url is not None,
        inline_bytes=settings.inline_tensor_bytes,
    )


def create_app(settings: AggregatorSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        build_state(app, settings)
        log.info(
            "aggregator ready (state: %s, artifacts: %s)",
            settings.redis_url or "in-process",
            settings.s3_endpoint or settings.artifact_dir,
        )
        yield

    app = FastAPI(title="FedLoom aggregator", version="1", lifespan=lifespan)
    app.add_exception_handler(FedLoomError, domain_error)
    for router in (health.router, clients.router, admin.router):
        app.include_router(router)

    @app.middleware("http")
    async def timing(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        app.state.metrics.observe(getattr(route, "path", "unmatched"), time.perf_counter() - started)
        return response

    return app
