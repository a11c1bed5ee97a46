"""Request errors of the generator service; each knows its HTTP status. The app maps them in one handler."""

from __future__ import annotations

from fedloom.errors import ConfigError, FedLoomError, WireError


class GeneratorRequestError(FedLoomError):
    """A request the service refuses; `status_code` is the HTTP answer."""

    status_code = 400


class UnsupportedMediaType(GeneratorRequestError):
    status_code = 415


class RequestTooLarge(GeneratorRequestError):
    """A body over the byte limit, or more latents / image elements than the service allows."""

    status_code = 413


class InvalidLatents(GeneratorRequestError, ValueError):
    """Well-formed latents that do not fit this generator (wrong width)."""

    status_code = 422


def status_of(exc: FedLoomError) -> int:
    """HTTP status of a domain error: its own for request errors, 400 for bad bytes, 422 otherwise."""
    if isinstance(exc, GeneratorRequestError):
        return exc.status_code
    if isinstance(exc, WireError):
        return 400
    return 422 if isinstance(exc, ConfigError) else 400
