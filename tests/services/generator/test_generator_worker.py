"""The generation worker inside the live service, against a real redis-server and a real artefact store."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import torch
from _generator_server import running, tiny_settings

import servers
from fedloom.generation.postprocess import to_client_images
from fedloom.generation.tiny import TinyGenerator
from fedloom.stores import ArtifactStore, LocalArtifactStore
from fedloom.stores.redis_store import RedisStateStore
from fedloom.stores.s3_store import S3ArtifactStore
from fedloom.wire import decode
from fedloom.wire.generation import (
    GENERATED_ARTIFACT,
    GenerationResult,
    ImageRequest,
    ImageResponse,
    generation_status_key,
    job_fields,
)
from fedloom.wire.routes import GENERATION_STREAM, PROMETHEUS, READYZ, artifact_key, key
from fedloom_generator import GeneratorSettings

WAIT_SECONDS = 15.0


@pytest.fixture(params=["local", "s3"])
def service(request: pytest.FixtureRequest, redis_url: str, tmp_path: Path) -> Iterator[tuple[str, ArtifactStore]]:
    """(base URL, the artefact store the service writes to) for a service with its worker running."""
    with redis.Redis.from_url(redis_url) as admin:
        admin.flushall()
    settings, artifacts = _stores(request, redis_url, tmp_path)
    with running(settings) as url:
        yield url, artifacts


def _stores(request: pytest.FixtureRequest, redis_url: str, tmp_path: Path) -> tuple[GeneratorSettings, ArtifactStore]:
    if request.param == "local":
        return tiny_settings(redis_url=redis_url, artifact_dir=tmp_path), LocalArtifactStore(tmp_path)
    endpoint: str = request.getfixturevalue("s3_endpoint")
    bucket = f"gen-{uuid.uuid4().hex[:12]}"
    access, secret = servers.S3_ACCESS_KEY, servers.S3_SECRET_KEY
    settings = tiny_settings(
        redis_url=redis_url,
        s3_endpoint=endpoint,
        s3_access_key=access,
        s3_secret_key=secret,
        s3_bucket=bucket,
        s3_region=servers.S3_REGION,
    )
    return settings, S3ArtifactStore(endpoint, access, secret, bucket, region=servers.S3_REGION)


def wait_result(state: RedisStateStore, federation_id: str, round_: int) -> GenerationResult:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        raw = state.get(generation_status_key(federation_id, round_))
        if raw is not None:
            return decode(raw, GenerationResult)
        time.sleep(0.05)
    raise AssertionError(f"no generation result for {federation_id} round {round_}")


def test_jobs_become_artifacts_and_failures_become_markers(service: tuple[str, ArtifactStore], redis_url: str) -> None:
    url, artifacts = service
    state = RedisStateStore(url=redis_url)
    tiny = TinyGenerator()
    w = tiny.sample_latents(11, torch.Generator().manual_seed(0))
    stream = key(GENERATION_STREAM)
    state.xadd(stream, job_fields("fedA", 3, ImageRequest(w=w, shape=(1, 28, 28))))
    state.xadd(stream, job_fields("fedB", 0, ImageRequest(w=w[:4])))
    state.xadd(stream, {"federation_id": b"fedC", "round": b"1", "request": b"\xc1 not msgpack"})
    state.xadd(stream, job_fields("fedD", 2, ImageRequest(w=torch.zeros(65, 64))))
    state.xadd(stream, {"round": b"9"})  # nowhere to report: dropped (acked) and counted as failed

    done = wait_result(state, "fedA", 3)
    assert done == GenerationResult(status="done", artifact_key=artifact_key("fedA", 3, GENERATED_ARTIFACT), count=11)
    assert done.artifact_key is not None
    shaped = decode(artifacts.get(done.artifact_key), ImageResponse)
    assert shaped.normalized and torch.equal(shaped.latents, w)
    torch.testing.assert_close(shaped.images, to_client_images(tiny.synthesize(w), (1, 28, 28)), atol=1e-5, rtol=0)

    raw = decode(artifacts.get(artifact_key("fedB", 0, GENERATED_ARTIFACT)), ImageResponse)
    assert wait_result(state, "fedB", 0).status == "done" and not raw.normalized
    torch.testing.assert_close(raw.images, tiny.synthesize(w[:4]), atol=1e-6, rtol=0)

    bad = wait_result(state, "fedC", 1)
    assert bad.status == "failed" and bad.error is not None and "msgpack" in bad.error
    too_many = wait_result(state, "fedD", 2)
    assert too_many.status == "failed" and too_many.error is not None and "limit of 64" in too_many.error
    assert not artifacts.exists(artifact_key("fedD", 2, GENERATED_ARTIFACT))
    _assert_all_acked(redis_url)
    _assert_ready_and_counted(url)
    state.close()


def _assert_all_acked(redis_url: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    with redis.Redis.from_url(redis_url) as admin:
        while time.monotonic() < deadline:
            groups = admin.xinfo_groups(key(GENERATION_STREAM))
            last = admin.xinfo_stream(key(GENERATION_STREAM))["last-generated-id"]
            if groups[0]["pending"] == 0 and groups[0]["last-delivered-id"] == last:
                return
            time.sleep(0.05)
    raise AssertionError(f"jobs left pending: {groups}")


def _assert_ready_and_counted(url: str) -> None:
    with httpx.Client(base_url=url) as client:
        ready = client.get(READYZ)
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"generator": True, "redis": True, "artifacts": True, "worker": True}
        text = client.get(PROMETHEUS).text
    assert 'fedloom_generator_jobs_total{outcome="done"} 2' in text
    assert 'fedloom_generator_jobs_total{outcome="failed"} 3' in text
    assert 'fedloom_generator_images_total{source="worker"} 15' in text
