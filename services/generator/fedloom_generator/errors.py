"""The generator service's refusals, named for what they mean here; statuses come from the shared ones."""

from fedloom.serving.http_errors import (
    PayloadTooLarge,
    ServiceError,
    Unprocessable,
    UnsupportedMediaType,
    error_body,
    status_of,
)

GeneratorRequestError = ServiceError
RequestTooLarge = PayloadTooLarge
InvalidLatents = Unprocessable

__all__ = [
    "GeneratorRequestError",
    "InvalidLatents",
    "RequestTooLarge",
    "UnsupportedMediaType",
    "error_body",
    "status_of",
]
