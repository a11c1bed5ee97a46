"""Request bodies are capped before they are read whole: declared lengths at once, chunked ones as they stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from security_helpers import ADMIN, aggregator, enroll, fresh_redis, settings_for

from fedloom_generator import GeneratorSettings, create_app
from servers import serving

LIMIT = 64 * 1024


def chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    """A JSON-looking body sent without Content-Length (chunked transfer encoding)."""
    yield b'{"ttl_seconds": 60, "note": "'
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


@pytest.fixture(scope="module")
def generator_url() -> Iterator[str]:
    settings = GeneratorSettings(generator="tiny", device="cpu", max_body_bytes=LIMIT)
    with serving(create_app(settings)) as url:
        yield url


def assert_too_large(answer: httpx.Response) -> None:
    assert answer.status_code == 413, answer.text
    assert "exceeds the limit" in answer.json()["detail"]


def test_aggregator_caps_json_and_msgpack_bodies_declared_or_chunked(redis_url: str, tmp_path: Path) -> None:
    with aggregator(settings_for(fresh_redis(redis_url), tmp_path, max_body_bytes=LIMIT)) as url:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        big = json.dumps({"ttl_seconds": 60, "note": "x" * (LIMIT + 1)}).encode()
        target = f"{url}/v1/admin/enrollment-tokens"
        assert_too_large(httpx.post(target, content=big, headers=admin | {"Content-Type": "application/json"}))
        chunked = httpx.post(target, content=chunks(4 * LIMIT), headers=admin | {"Content-Type": "application/json"})
        assert_too_large(chunked)
        assert_too_large(httpx.post(f"{url}/v1/clients", content=chunks(2 * LIMIT)))  # before any token check
        _, api_token = enroll(url)
        upload = f"{url}/v1/federations/f/rounds/0/update"
        msgpack = {"Content-Type": "application/msgpack", "Authorization": f"Bearer {api_token}"}
        assert_too_large(httpx.put(upload, content=chunks(2 * LIMIT), headers=msgpack))
        small = httpx.post(target, json={"ttl_seconds": 60}, headers=admin)
        assert small.status_code == 201  # under the cap all is as before
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_generator_caps_bodies_declared_or_chunked(generator_url: str) -> None:
    headers = {"Content-Type": "application/msgpack"}
    assert_too_large(httpx.post(f"{generator_url}/v1/latents", content=b"\0" * (LIMIT + 1), headers=headers))
    assert_too_large(httpx.post(f"{generator_url}/v1/images", content=chunks(3 * LIMIT), headers=headers))
    assert httpx.get(f"{generator_url}/healthz").status_code == 200
