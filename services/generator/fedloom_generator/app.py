"""The generator service's FastAPI app: generator (and worker) built in the lifespan, errors mapped once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from fedloom.errors import FedLoomError
from fedloom.generation.backends import load_generator
from fedloom.serving.body_limit import BodyLimitMiddleware
from fedloom_generator.engine import GenerationEngine
from fedloom_generator.errors import error_body, status_of
from fedloom_generator.metrics import Metrics
from fedloom_generator.middleware import MetricsMiddleware
from fedloom_generator.routes import router
from fedloom_generator.settings import GeneratorSettings, get_settings, resolve_device
from fedloom_generator.stores import WorkerStores, build_worker_stores, close_quietly
from fedloom_generator.worker import GenerationWorker, WorkerOptions

log = logging.getLogger("fedloom.generator")


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    """Every FedLoom error a request causes -> its 4xx status with a JSON message."""
    assert isinstance(exc, FedLoomError)
    return JSONResponse(error_body(exc), status_code=status_of(exc))


def build_engine(settings: GeneratorSettings, metrics: Metrics) -> GenerationEngine:
    """Load the configured generator onto its device (slow for big networks: run off the event loop)."""
    device = resolve_device(settings.device)
    return GenerationEngine(
        load_generator(settings.generator, device),
        device=device,
        source=settings.generator,
        max_batch_size=settings.max_batch_size,
        max_n_per_request=settings.max_n_per_request,
        metrics=metrics,
    )


def build_worker(settings: GeneratorSettings, engine: GenerationEngine, stores: WorkerStores) -> GenerationWorker:
    options = WorkerOptions(
        settings.worker_group, settings.worker_consumer, settings.worker_jobs_per_read, settings.worker_block_seconds
    )
    return GenerationWorker(engine, stores.state, stores.artifacts, options)


def create_app(settings: GeneratorSettings) -> FastAPI:
    """The app; the generator is loaded (and the worker started, when Redis is configured) at startup."""
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings, app.state.metrics = settings, metrics
        app.state.engine = await run_in_threadpool(build_engine, settings, metrics)
        stores = app.state.stores = await run_in_threadpool(build_worker_stores, settings)
        worker = app.state.worker = None if stores is None else build_worker(settings, app.state.engine, stores)
        if worker is not None:
            worker.start()
        log.info("generator ready %s worker=%s", app.state.engine.info().model_dump_json(), worker is not None)
        try:
            yield
        finally:
            if worker is not None:
                await run_in_threadpool(worker.stop)
            if stores is not None:
                close_quietly(stores.state)

    app = FastAPI(title="FedLoom generator", version="1", lifespan=lifespan)
    app.add_exception_handler(FedLoomError, domain_error)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)  # outermost: before any read
    app.include_router(router)
    return app


def app_from_env() -> FastAPI:
    """ASGI factory for `uvicorn --factory fedloom_generator.app:app_from_env`."""
    return create_app(get_settings())
