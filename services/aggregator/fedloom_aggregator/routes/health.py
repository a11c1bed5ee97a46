"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from fedloom.wire import routes
from fedloom_aggregator.deps import CoordinatorDep, MetricsDep, RegistryDep
from fedloom_aggregator.metrics import live_gauges

router = APIRouter(tags=["health"])


@router.get(routes.HEALTHZ)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(routes.READYZ)
def readyz(request: Request) -> JSONResponse:
    checks = {"state_store": request.app.state.store.ping(), "artifact_store": request.app.state.artifacts.ping()}
    return JSONResponse(checks, status_code=200 if all(checks.values()) else 503)


@router.get(routes.PROMETHEUS, response_class=PlainTextResponse)
def prometheus(metrics: MetricsDep, registry: RegistryDep, coordinator: CoordinatorDep) -> str:
    return metrics.render(live_gauges(registry.clients(), coordinator.federations()))
