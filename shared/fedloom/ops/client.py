"""The operators' view of a running aggregator over its admin REST API (used by `fedloom status`, `clients`,
`federations` and `export`). Finds the aggregator through FEDLOOM_URL (or --server) and authenticates with
FEDLOOM_ADMIN_TOKEN."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from fedloom.errors import ConfigError, FedLoomError
from fedloom.wire import routes
from fedloom.wire.control import ClientInfo, ClientRoundMetrics, FederationState
from fedloom.wire.routes import ROUND_PACKAGE


class AggregatorRefused(FedLoomError):
    """The aggregator answered with an error, or could not be reached."""


class OperatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FEDLOOM_", extra="ignore", frozen=True)

    url: str = Field("http://127.0.0.1:8080", description="the aggregator's base URL (FEDLOOM_URL)")
    admin_token: SecretStr = Field(description="the operators' bearer token (FEDLOOM_ADMIN_TOKEN)")
    timeout_seconds: float = Field(30.0, gt=0)


def load_operator_settings(server: str | None) -> OperatorSettings:
    """Settings from FEDLOOM_* variables; `server` (the --server flag) wins over FEDLOOM_URL."""
    overrides: dict[str, Any] = {"url": server} if server else {}
    try:
        return OperatorSettings(**overrides)
    except ValidationError as exc:
        missing = any(e["loc"] == ("admin_token",) for e in exc.errors())
        hint = "set FEDLOOM_ADMIN_TOKEN to the aggregator's admin token" if missing else str(exc)
        raise ConfigError(f"operator settings: {hint}") from None


def refusal(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    return f"HTTP {response.status_code}: {detail}"


class OperatorClient:
    def __init__(self, settings: OperatorSettings) -> None:
        self.url = settings.url.rstrip("/")
        headers = {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=settings.timeout_seconds)

    def request(self, method: str, path: str, allowed: tuple[int, ...] = ()) -> httpx.Response:
        """One request; errors (unreachable server, 4xx, 5xx) become AggregatorRefused with the server's reason."""
        try:
            response = self.http.request(method, path)
        except httpx.HTTPError as exc:
            raise AggregatorRefused(f"cannot reach the aggregator at {self.url}: {exc}") from None
        if response.status_code >= 400 and response.status_code not in allowed:
            raise AggregatorRefused(f"{method} {path} refused by {self.url}: {refusal(response)}")
        return response

    def health(self) -> dict[str, Any]:
        healthy = self.request("GET", routes.HEALTHZ).status_code == 200
        ready = self.request("GET", routes.READYZ, allowed=(503,))
        return {"healthy": healthy, "ready": ready.status_code == 200, "checks": ready.json()}

    def clients(self) -> list[ClientInfo]:
        return [ClientInfo.model_validate(c) for c in self.request("GET", routes.CLIENTS).json()]

    def federations(self) -> list[FederationState]:
        return [FederationState.model_validate(f) for f in self.request("GET", routes.FEDERATIONS).json()]

    def federation(self, fid: str) -> FederationState:
        path = routes.FEDERATION.format(federation_id=fid)
        return FederationState.model_validate(self.request("GET", path).json())

    def start(self, fid: str) -> FederationState:
        path = routes.FEDERATION_START.format(federation_id=fid)
        return FederationState.model_validate(self.request("POST", path).json())

    def client_metrics(self, fid: str) -> list[ClientRoundMetrics]:
        path = routes.FEDERATION_CLIENT_METRICS.format(federation_id=fid)
        return [ClientRoundMetrics.model_validate(m) for m in self.request("GET", path).json()]

    def package(self, fid: str, round_: int) -> bytes | None:
        """A round package (msgpack), or None when that round has none."""
        response = self.request("GET", ROUND_PACKAGE.format(federation_id=fid, round=round_), allowed=(404,))
        return None if response.status_code == 404 else response.content

    def close(self) -> None:
        self.http.close()
