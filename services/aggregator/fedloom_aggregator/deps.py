"""FastAPI dependencies: settings and services from app.state, bearer-token authentication, bodies.

Dependencies that only read app.state are `async def` so FastAPI runs them on the event loop; a plain
`def` would cost a thread-pool hop per dependency per request. Client authentication awaits the store's
async read; the rest that call the state store stay `def` (its client blocks), so a slow store never
stalls the event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fedloom.wire.routes import MSGPACK
from fedloom_aggregator.audit import AuditLog, token_ref
from fedloom_aggregator.coordinator import Coordinator, Packages
from fedloom_aggregator.errors import Unauthorized, UnsupportedMediaType
from fedloom_aggregator.metrics import Metrics
from fedloom_aggregator.rate_limit import RateLimiter
from fedloom_aggregator.registry import ClientRegistry
from fedloom_aggregator.results import Results
from fedloom_aggregator.security import same_secret
from fedloom_aggregator.settings import AggregatorSettings


async def get_settings(request: Request) -> AggregatorSettings:
    settings: AggregatorSettings = request.app.state.settings
    return settings


async def get_registry(request: Request) -> ClientRegistry:
    registry: ClientRegistry = request.app.state.registry
    return registry


async def get_coordinator(request: Request) -> Coordinator:
    coordinator: Coordinator = request.app.state.coordinator
    return coordinator


async def get_packages(request: Request) -> Packages:
    return Packages(await get_coordinator(request))


async def get_results(request: Request) -> Results:
    return Results(await get_coordinator(request))


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


BEARER = HTTPBearer(auto_error=False, description="a client's API token, or the operators' admin token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
"""The `Authorization: Bearer` header (an OpenAPI security scheme; cheaper per request than a Header field)."""


def token_of(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials.strip():
        raise Unauthorized("missing 'Authorization: Bearer <token>' header")
    return credentials.credentials.strip()


SettingsDep = Annotated[AggregatorSettings, Depends(get_settings)]
RegistryDep = Annotated[ClientRegistry, Depends(get_registry)]
CoordinatorDep = Annotated[Coordinator, Depends(get_coordinator)]
PackagesDep = Annotated[Packages, Depends(get_packages)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
AuditDep = Annotated[AuditLog, Depends(get_audit)]
ResultsDep = Annotated[Results, Depends(get_results)]


def require_admin(request: Request, settings: SettingsDep, audit: AuditDep, credentials: Credentials) -> Iterator[None]:
    """The operator token, or 401; every admin request, granted or refused, leaves an audit line."""
    action = f"{request.method} {request.url.path}"
    given = credentials.credentials.strip() if credentials is not None else ""
    if not given or not same_secret(given, settings.admin_token):
        audit.record(action, token_ref(given), "refused", reason="admin token required")
        raise Unauthorized("admin token required")
    try:
        yield
    except Exception as exc:
        audit.record(action, "admin", "failed", reason=str(exc)[:200])
        raise
    audit.record(action, "admin", "ok")


async def current_client(request: Request, credentials: Credentials) -> int:
    """The authenticated client's id, within its rate limit (429 above it). On the hot path of every client
    request: awaited on the loop (a thread hop costs more than the Redis read), and the registry and limiter
    come off app.state here rather than through two more dependencies."""
    registry: ClientRegistry = request.app.state.registry
    limiter: RateLimiter = request.app.state.rate_limiter
    client_id = await registry.authenticate(token_of(credentials))
    limiter.take(client_id)
    return client_id


ADMIN = -1  # the principal id of the operator token


async def client_or_admin(request: Request, settings: SettingsDep, credentials: Credentials) -> int:
    """A client's id, or ADMIN for the operator token (operators may read every package)."""
    if same_secret(token_of(credentials), settings.admin_token):
        return ADMIN
    return await current_client(request, credentials)


ClientIdDep = Annotated[int, Depends(current_client)]
ReaderDep = Annotated[int, Depends(client_or_admin)]
AdminDep = Depends(require_admin, scope="function")  # audit line written before the response leaves


async def msgpack_body(request: Request) -> bytes:
    """The raw msgpack body; its size is capped while it streams in by BodyLimitMiddleware (413)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != MSGPACK:
        raise UnsupportedMediaType(f"send the body as {MSGPACK}")
    return await request.body()


MsgpackBody = Annotated[bytes, Depends(msgpack_body)]
