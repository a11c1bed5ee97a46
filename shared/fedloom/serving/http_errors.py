"""Errors services raise for requests they refuse; each knows its HTTP status, one handler maps them."""

from __future__ import annotations

from typing import Any

from fedloom.errors import ConfigError, FedLoomError, WireError
from fedloom.stores.errors import StoreUnavailable

MAX_DETAIL_CHARS = 1000


class ServiceError(FedLoomError):
    """A refused request; `status_code` is the HTTP answer."""

    status_code = 400


class Unauthorized(ServiceError):
    status_code = 401


class Forbidden(ServiceError):
    status_code = 403


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class PayloadTooLarge(ServiceError):
    """A body over the byte limit, or more items than the service allows in one request."""

    status_code = 413


class UnsupportedMediaType(ServiceError):
    status_code = 415


class Unprocessable(ServiceError, ValueError):
    """Well-formed input that does not fit (e.g. latents of the wrong width)."""

    status_code = 422


def status_of(exc: FedLoomError) -> int:
    """Its own status for a ServiceError; 503 while the state store is away; 422 for a bad setting; 400 for
    bad bytes and anything else."""
    if isinstance(exc, ServiceError):
        return exc.status_code
    if isinstance(exc, StoreUnavailable):
        return 503
    return 422 if isinstance(exc, ConfigError) else 400


def error_body(exc: FedLoomError) -> dict[str, Any]:
    """The JSON of a refused request: a bounded message and the kind of error."""
    kind = "invalid message" if isinstance(exc, WireError) else type(exc).__name__
    return {"detail": str(exc)[:MAX_DETAIL_CHARS], "error": kind}
