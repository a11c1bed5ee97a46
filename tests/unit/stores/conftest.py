"""Stores under test: every contract test runs on each implementation, against real servers.

A private redis-server and a moto S3 server are started once per session on free loopback ports
(never the shared Redis on 6379). Each Redis test starts from FLUSHALL; each S3 test gets a new bucket.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

import servers
from fedloom.stores import ArtifactStore, LocalArtifactStore, MemoryStateStore, StateStore
from fedloom.stores.redis_store import RedisStateStore
from fedloom.stores.s3_store import S3ArtifactStore  # noqa: E402


@pytest.fixture(params=["memory", "redis"])
def state_store(request: pytest.FixtureRequest) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStateStore()
        return
    url = request.getfixturevalue("redis_url")
    with redis.Redis.from_url(url) as admin:
        admin.flushall()
    store = RedisStateStore(url)
    yield store
    store.close()


@pytest.fixture(params=["local", "s3"])
def artifact_store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "artifacts")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"fedloom-{uuid.uuid4().hex[:12]}"
    return S3ArtifactStore(endpoint, servers.S3_ACCESS_KEY, servers.S3_SECRET_KEY, bucket, region=servers.S3_REGION)
