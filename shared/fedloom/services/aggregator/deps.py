"""FastAPI dependencies: settings and services from app.state, bearer-token authentication, bodies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from fedloom.services.aggregator.coordinator import Coordinator, Packages
from fedloom.services.aggregator.errors import PayloadTooLarge, Unauthorized, UnsupportedMediaType
from fedloom.services.aggregator.metrics import Metrics
from fedloom.services.aggregator.registry import ClientRegistry
from fedloom.services.aggregator.results import Results
from fedloom.services.aggregator.security import same_secret
from fedloom.services.aggregator.settings import AggregatorSettings
from fedloom.wire.routes import MSGPACK


def get_settings(request: Request) -> AggregatorSettings:
    settings: AggregatorSettings = request.app.state.settings
    return settings


def get_registry(request: Request) -> ClientRegistry:
    registry: ClientRegistry = request.app.state.registry
    return registry


def get_coordinator(request: Request) -> Coordinator:
    coordinator: Coordinator = request.app.state.coordinator
    return coordinator


def get_packages(request: Request) -> Packages:
    return Packages(get_coordinator(request))


def get_results(request: Request) -> Results:
    return Results(get_coordinator(request))


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def bearer(authorization: Annotated[str | None, Header()] = None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("missing 'Authorization: Bearer <token>' header")
    return authorization.removeprefix("Bearer ").strip()


SettingsDep = Annotated[AggregatorSettings, Depends(get_settings)]
RegistryDep = Annotated[ClientRegistry, Depends(get_registry)]
CoordinatorDep = Annotated[Coordinator, Depends(get_coordinator)]
PackagesDep = Annotated[Packages, Depends(get_packages)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ResultsDep = Annotated[Results, Depends(get_results)]


def require_admin(settings: SettingsDep, token: Annotated[str, Depends(bearer)]) -> None:
    if not same_secret(token, settings.admin_token):
        raise Unauthorized("admin token required")


def current_client(registry: RegistryDep, token: Annotated[str, Depends(bearer)]) -> int:
    return registry.authenticate(token)


ADMIN = -1  # the principal id of the operator token


def client_or_admin(settings: SettingsDep, registry: RegistryDep, token: Annotated[str, Depends(bearer)]) -> int:
    """A client's id, or ADMIN for the operator token (operators may read every package)."""
    return ADMIN if same_secret(token, settings.admin_token) else registry.authenticate(token)


ClientIdDep = Annotated[int, Depends(current_client)]
ReaderDep = Annotated[int, Depends(client_or_admin)]
AdminDep = Depends(require_admin)


async def msgpack_body(request: Request, settings: SettingsDep) -> bytes:
    """The raw msgpack body, refused early when the type is wrong or it exceeds the size cap."""
    if request.headers.get("content-type", "").split(";")[0].strip() != MSGPACK:
        raise UnsupportedMediaType(f"send the body as {MSGPACK}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
        raise PayloadTooLarge(f"body of {declared} bytes exceeds {settings.max_body_bytes}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > settings.max_body_bytes:
            raise PayloadTooLarge(f"body exceeds {settings.max_body_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


MsgpackBody = Annotated[bytes, Depends(msgpack_body)]
