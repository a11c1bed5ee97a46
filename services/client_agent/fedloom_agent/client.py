"""`AggregatorClient`: one typed method per aggregator route, over one httpx client, with retries.

Retried (bounded, exponential backoff with full jitter): connection errors, timeouts, 5xx and 429.
Not retried: any other 4xx, raised at once as `AgentError` carrying the server's `detail`. A call that
is not idempotent (enrolment) is retried only when the request cannot have reached the server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from fedloom.wire import ClientUpdate, GlobalPayload, decode, encode, routes
from fedloom.wire.control import Enrollment, EnrollRequest, MetricsReport, Task
from fedloom_agent.errors import AgentError, RetriesExhausted
from fedloom_agent.retry import Backoff
from fedloom_agent.settings import AgentSettings

log = logging.getLogger("fedloom.agent.client")

M = TypeVar("M", bound=BaseModel)

REFUSED = frozenset({429, 503})
"""Answers that say the server did not act on the request: safe to retry even a non-idempotent call."""
UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before the request left this machine."""
USER_AGENT = "fedloom-agent/0.1"


@dataclass(frozen=True)
class Retryable:
    """Why an attempt failed in a way worth another try, and how long the server asked us to wait."""

    reason: str
    retry_after: float = 0.0


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return detail if isinstance(detail, str) else str(detail)[:300]


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0  # an HTTP date: the jittered backoff is good enough


def _model(response: httpx.Response, model: type[M]) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise AgentError(f"{response.request.url.path}: unexpected answer, not a {model.__name__}: {exc}") from exc


def _fid(federation_id: str) -> str:
    return quote(federation_id, safe="")


class AggregatorClient:
    """The aggregator's REST API as typed calls; `authorize` adds the bearer token to later calls."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 60.0,
        backoff: Backoff | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self._http = httpx.Client(
            base_url=base_url, timeout=httpx.Timeout(timeout), headers={"User-Agent": USER_AGENT}, transport=transport
        )

    @classmethod
    def from_settings(cls, settings: AgentSettings) -> AggregatorClient:
        backoff = Backoff(settings.backoff_base, settings.backoff_cap, settings.max_retries)
        return cls(settings.server_url, timeout=settings.request_timeout, backoff=backoff)

    def __enter__(self) -> AggregatorClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def authorize(self, api_token: str) -> None:
        self._http.headers["Authorization"] = f"Bearer {api_token}"

    def enroll(self, request: EnrollRequest) -> Enrollment:
        """Exchange a one-time enrolment token for a client id and an API token."""
        response = self._request("POST", routes.CLIENTS, idempotent=False, json=request.model_dump(mode="json"))
        return _model(response, Enrollment)

    def next_task(self, wait: float) -> Task | None:
        """Long-poll for the next task; None when the aggregator had none within `wait` seconds."""
        timeout = httpx.Timeout(self.timeout, read=self.timeout + wait)
        response = self._request("GET", routes.NEXT_TASK, params={"wait": wait}, timeout=timeout)
        return None if response.status_code == 204 else _model(response, Task)

    def bootstrap(self, federation_id: str) -> GlobalPayload:
        """The federation's one-time package."""
        return self._payload(routes.BOOTSTRAP.format(federation_id=_fid(federation_id)))

    def package(self, federation_id: str, round_: int) -> GlobalPayload:
        """The package published for round `round_`."""
        return self._payload(routes.ROUND_PACKAGE.format(federation_id=_fid(federation_id), round=round_))

    def blob(self, federation_id: str, digest: str) -> bytes:
        """A large tensor a package references, as the stored bytes (`fedloom.wire.blobs.resolve` checks them)."""
        path = routes.BLOB.format(federation_id=_fid(federation_id), digest=quote(digest, safe=""))
        return self._request("GET", path, headers={"Accept": routes.MSGPACK}).content

    def upload_update(self, federation_id: str, round_: int, update: ClientUpdate) -> bool:
        """Upload round `round_`'s update (idempotent); returns True when the server already had it."""
        path = routes.ROUND_UPDATE.format(federation_id=_fid(federation_id), round=round_)
        headers = {"Content-Type": routes.MSGPACK}
        response = self._request("PUT", path, content=encode(update), headers=headers)
        body = response.json() if response.content else {}
        return bool(body.get("duplicate", False)) if isinstance(body, dict) else False

    def post_metrics(self, federation_id: str, round_: int, report: MetricsReport) -> None:
        """Report round `round_`'s local test metrics (the aggregator keeps one report per client and round)."""
        path = routes.ROUND_METRICS.format(federation_id=_fid(federation_id), round=round_)
        self._request("POST", path, content=report.model_dump_json(), headers={"Content-Type": routes.JSON})

    def _payload(self, path: str) -> GlobalPayload:
        response = self._request("GET", path, headers={"Accept": routes.MSGPACK})
        kind = response.headers.get("Content-Type", "")
        if not kind.startswith(routes.MSGPACK):
            raise AgentError(f"{path}: expected {routes.MSGPACK}, got {kind or 'no content type'}")
        return decode(response.content, GlobalPayload)

    def _request(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> httpx.Response:
        failure = Retryable("no attempt made")
        for attempt in range(self.backoff.attempts):
            outcome = self._attempt(method, path, idempotent, kwargs)
            if isinstance(outcome, httpx.Response):
                return outcome
            failure = outcome
            if attempt == self.backoff.max_retries:
                break
            delay = self.backoff.delay(attempt, failure.retry_after)
            retry = f"{attempt + 1}/{self.backoff.max_retries}"
            log.warning("%s %s: %s; retry %s in %.2f s", method, path, failure.reason, retry, delay)
            self.backoff.sleep(delay)
        raise RetriesExhausted(f"{method} {path} failed {self.backoff.attempts} times; last: {failure.reason}")

    def _attempt(self, method: str, path: str, idempotent: bool, kwargs: dict[str, Any]) -> httpx.Response | Retryable:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            if idempotent or isinstance(exc, UNSENT):
                return Retryable(f"{type(exc).__name__}: {exc}")
            reason = f"{type(exc).__name__} ({exc}); not retried: the server may have acted on it"
            raise AgentError(f"{method} {path}: {reason}") from exc
        status = response.status_code
        if status < 400:
            return response
        if status in REFUSED or (idempotent and status >= 500):
            return Retryable(f"HTTP {status}: {_detail(response)}", _retry_after(response))
        raise AgentError(f"{method} {path} -> HTTP {status}: {_detail(response)}", status)
