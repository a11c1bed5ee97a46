"""Stores chosen from settings: URLs for state, endpoint-or-folder for artefacts."""

from __future__ import annotations

from pathlib import Path

import pytest

import servers
from fedloom.errors import ConfigError
from fedloom.stores import LocalArtifactStore, MemoryStateStore, artifact_store_from_settings, state_store_from_url
from fedloom.stores.redis_store import RedisStateStore
from fedloom.stores.s3_store import S3ArtifactStore


@pytest.mark.parametrize("url", [None, "", "memory://"])
def test_no_url_means_the_in_process_store(url: str | None) -> None:
    assert isinstance(state_store_from_url(url), MemoryStateStore)


def test_a_redis_url_means_redis(redis_url: str) -> None:
    store = state_store_from_url(redis_url)
    assert isinstance(store, RedisStateStore)
    assert store.ping() is True
    store.close()


@pytest.mark.parametrize("url", ["http://localhost:6379", "redis", "memory://x"])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="state store URL"):
        state_store_from_url(url)


@pytest.mark.parametrize("endpoint", [None, ""])
def test_no_endpoint_means_a_local_folder(endpoint: str | None, tmp_path: Path) -> None:
    store = artifact_store_from_settings(endpoint, None, None, "unused", tmp_path / "artifacts")
    assert isinstance(store, LocalArtifactStore)
    store.put("x/y.bin", b"1")
    assert (tmp_path / "artifacts" / "x" / "y.bin").read_bytes() == b"1"


def test_an_endpoint_means_s3(s3_endpoint: str, tmp_path: Path) -> None:
    store = artifact_store_from_settings(
        s3_endpoint, servers.S3_ACCESS_KEY, servers.S3_SECRET_KEY, "fedloom-factory", tmp_path, region="us-east-1"
    )
    assert isinstance(store, S3ArtifactStore)
    store.put("k", b"v")
    assert store.get("k") == b"v"
    assert not any(tmp_path.iterdir())
