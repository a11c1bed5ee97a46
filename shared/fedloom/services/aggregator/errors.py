"""Domain errors of the aggregator; one exception handler maps them to HTTP status codes."""

from __future__ import annotations

from fedloom.errors import FedLoomError


class AggregatorError(FedLoomError):
    status_code = 400


class Unauthorized(AggregatorError):
    status_code = 401


class Forbidden(AggregatorError):
    status_code = 403


class NotFound(AggregatorError):
    status_code = 404


class Conflict(AggregatorError):
    status_code = 409


class PayloadTooLarge(AggregatorError):
    status_code = 413


class UnsupportedMediaType(AggregatorError):
    status_code = 415
