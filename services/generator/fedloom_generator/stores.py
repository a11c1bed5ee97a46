"""The stores the generation worker needs, built from settings (none when no Redis URL is configured)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fedloom.errors import ConfigError
from fedloom.stores import artifact_store_from_settings, state_store_from_url
from fedloom.stores.protocol import ArtifactStore, StateStore
from fedloom_generator.settings import GeneratorSettings


@dataclass(frozen=True)
class WorkerStores:
    state: StateStore
    artifacts: ArtifactStore


def build_worker_stores(settings: GeneratorSettings) -> WorkerStores | None:
    """State + artefact stores for the worker, or None when `FEDLOOM_REDIS_URL` is unset (HTTP only)."""
    if settings.redis_url is None:
        return None
    if settings.s3_endpoint is None and settings.artifact_dir is None:
        raise ConfigError("FEDLOOM_REDIS_URL is set, so the worker needs FEDLOOM_S3_ENDPOINT or FEDLOOM_ARTIFACT_DIR")
    artifacts = artifact_store_from_settings(
        settings.s3_endpoint,
        settings.s3_access_key.get_secret_value(),
        settings.s3_secret_key.get_secret_value(),
        settings.s3_bucket,
        settings.artifact_dir or Path("artifacts"),  # only read when there is no S3 endpoint
        secure=settings.s3_secure,
        region=settings.s3_region,
    )
    return WorkerStores(state_store_from_url(settings.redis_url), artifacts)


def close_quietly(store: object) -> None:
    """Close a store that has a `close()` (the Redis one does; the protocol does not require it)."""
    close = getattr(store, "close", None)
    if callable(close):
        close()
