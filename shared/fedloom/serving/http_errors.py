"""Errors services raise for requests they refuse; each knows its HTTP status, one handler maps them."""

from __future__ import annotations

from fedloom.errors import ConfigError, FedLoomError
from fedloom.stores.errors import StoreUnavailable


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
