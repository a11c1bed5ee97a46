"""Errors raised by the stores (`ArtifactNotFound` lives with the other domain errors)."""

from fedloom.errors import ArtifactNotFound, FedLoomError

__all__ = ["ArtifactNotFound", "InvalidArtifactKey"]


class InvalidArtifactKey(FedLoomError, ValueError):
    """An artefact key or prefix that could escape the store or means different things in S3 and on disk."""
