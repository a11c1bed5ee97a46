"""Errors raised by the stores (`ArtifactNotFound` lives with the other domain errors)."""

from fedloom.errors import ArtifactNotFound, FedLoomError

__all__ = ["ArtifactNotFound", "InvalidArtifactKey", "StoreUnavailable"]


class InvalidArtifactKey(FedLoomError, ValueError):
    """An artefact key or prefix that could escape the store or means different things in S3 and on disk."""


class StoreUnavailable(FedLoomError, ConnectionError):
    """The state store did not answer, retries included (e.g. Redis restarting); worth trying again later."""
