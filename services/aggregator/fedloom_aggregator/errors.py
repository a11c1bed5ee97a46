"""The aggregator's refusals are the services' shared ones (`fedloom.serving.http_errors`)."""

from fedloom.serving.http_errors import (
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    Unauthorized,
    UnsupportedMediaType,
)

AggregatorError = ServiceError

__all__ = [
    "AggregatorError",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "Unauthorized",
    "UnsupportedMediaType",
]
