"""The aggregator's FastAPI application: stores and coordinator built in the lifespan, errors mapped once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig

from fedloom.errors import FedLoomError
from fedloom.serving.body_limit import BodyLimitMiddleware
from fedloom.serving.http_errors import error_body, status_of
from fedloom.stores import artifact_store_from_settings, state_store_from_url
from fedloom_aggregator.audit import AuditLog
from fedloom_aggregator.coordinator import Coordinator, start_warm_up
from fedloom_aggregator.metrics import Metrics
from fedloom_aggregator.rate_limit import RateLimiter, TooManyRequests, retry_after_header
from fedloom_aggregator.registry import ClientRegistry
from fedloom_aggregator.routes import admin, clients, health
from fedloom_aggregator.security import without_password
from fedloom_aggregator.settings import AggregatorSettings
from fedloom_aggregator.timing import TimingMiddleware
from fedloom_aggregator.ui import routes as ui

log = logging.getLogger("fedloom.aggregator")


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FedLoomError)
    headers = retry_after_header(exc) if isinstance(exc, TooManyRequests) else None
    return JSONResponse(error_body(exc), status_code=status_of(exc), headers=headers)


def build_state(app: FastAPI, settings: AggregatorSettings, metrics: Metrics) -> None:
    app.state.settings = settings
    app.state.store = state_store_from_url(settings.redis_url)
    app.state.artifacts = artifact_store_from_settings(
        settings.s3_endpoint,
        settings.s3_access_key,
        settings.s3_secret_key,
        settings.s3_bucket,
        settings.artifact_dir,
    )
    app.state.metrics = metrics
    app.state.audit = AuditLog(settings.audit_log)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.state.login_limiter = RateLimiter(settings.ui_login_per_minute / 60, settings.ui_login_burst)
    shared = settings.shared_enrollment_token
    app.state.registry = ClientRegistry(app.state.store, shared.get_secret_value() if shared else None)
    app.state.coordinator = Coordinator(
        app.state.store,
        app.state.artifacts,
        app.state.registry,
        generator_url=settings.generator_url,
        generation_jobs=settings.redis_url is not None and settings.generation_queue,
        inline_bytes=settings.inline_tensor_bytes,
        lease_seconds=settings.lease_seconds,
        secret_noise=settings.privacy_noise == "secret",
    )


def create_app(settings: AggregatorSettings) -> FastAPI:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        build_state(app, settings, metrics)
        start_warm_up()
        app.state.coordinator.resume_running()  # federations a previous process left running
        log.info(
            "aggregator ready (state: %s, artifacts: %s)",
            without_password(settings.redis_url) if settings.redis_url else "in-process",
            settings.s3_endpoint or settings.artifact_dir,
        )
        yield
        app.state.coordinator.loops.close()  # another replica takes this one's federations over at once
        app.state.audit.close()
        await app.state.store.close_async()

    off: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
    telemetry = None if settings.tracing else off  # off: no span bookkeeping on every request (about 6%)
    app = FastAPI(title="FedLoom aggregator", version="1", lifespan=lifespan, telemetry=telemetry)
    app.add_exception_handler(FedLoomError, domain_error)
    for router in (health.router, clients.router, admin.router):
        app.include_router(router)
    app.include_router(ui.router)

    app.add_middleware(TimingMiddleware, metrics=metrics)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)  # outermost: before any read
    return app


def app_from_env() -> FastAPI:
    """ASGI factory of one API worker process (`FEDLOOM_WORKERS` > 1): settings from the FEDLOOM_* environment,
    log lines as the `fedloom` command writes them."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return create_app(AggregatorSettings())
