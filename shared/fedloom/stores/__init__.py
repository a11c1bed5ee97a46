"""State (Redis or in-process) and artefact (S3/MinIO or local folder) stores, chosen from settings."""

from __future__ import annotations

from pathlib import Path

from fedloom.errors import ArtifactNotFound, ConfigError
from fedloom.stores.errors import InvalidArtifactKey
from fedloom.stores.local_store import LocalArtifactStore
from fedloom.stores.memory_store import MemoryStateStore
from fedloom.stores.protocol import ArtifactStore, Guard, GuardedWrite, Notice, StateStore, StreamEntry

__all__ = [
    "ArtifactNotFound",
    "ArtifactStore",
    "Guard",
    "GuardedWrite",
    "InvalidArtifactKey",
    "LocalArtifactStore",
    "MemoryStateStore",
    "Notice",
    "StateStore",
    "StreamEntry",
    "artifact_store_from_settings",
    "state_store_from_url",
]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def state_store_from_url(url: str | None) -> StateStore:
    """None, "" or "memory://" -> `MemoryStateStore`; "redis://", "rediss://", "unix://" -> `RedisStateStore`."""
    if not url or url == "memory://":
        return MemoryStateStore()
    if url.startswith(_REDIS_SCHEMES):
        from fedloom.stores.redis_store import RedisStateStore  # needs the `redis` package

        return RedisStateStore(url)
    raise ConfigError(f"state store URL must be empty, memory:// or redis://host:port/db, got {url!r}")


def artifact_store_from_settings(
    endpoint: str | None,
    access_key: str | None,
    secret_key: str | None,
    bucket: str,
    local_root: Path,
    *,
    secure: bool = False,
    region: str | None = None,
) -> ArtifactStore:
    """No endpoint -> `LocalArtifactStore(local_root)`; else `S3ArtifactStore` on that endpoint and bucket."""
    if not endpoint:
        return LocalArtifactStore(local_root)
    from fedloom.stores.s3_store import S3ArtifactStore  # needs the `minio` package

    return S3ArtifactStore(endpoint, access_key, secret_key, bucket, secure=secure, region=region)
