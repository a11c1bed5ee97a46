"""What only the S3 store has to show: bucket creation, endpoint forms, ping when the server is gone."""

from __future__ import annotations

import time

import pytest

import servers
from fedloom.errors import ConfigError
from fedloom.stores.s3_store import S3ArtifactStore, split_endpoint


def _store(endpoint: str, bucket: str) -> S3ArtifactStore:
    return S3ArtifactStore(endpoint, servers.S3_ACCESS_KEY, servers.S3_SECRET_KEY, bucket, region=servers.S3_REGION)


def test_the_bucket_is_created_once_and_shared(s3_endpoint: str) -> None:
    first = _store(s3_endpoint, "fedloom-shared-bucket")
    first.put("k", b"v")
    second = _store(s3_endpoint.removeprefix("http://"), "fedloom-shared-bucket")  # host:port form
    assert second.get("k") == b"v"


@pytest.mark.parametrize(
    ("endpoint", "secure", "expected"),
    [
        ("minio:9000", False, ("minio:9000", False)),
        ("minio:9000", True, ("minio:9000", True)),
        ("http://minio:9000", True, ("minio:9000", False)),
        ("https://s3.example.org/", False, ("s3.example.org", True)),
    ],
)
def test_split_endpoint(endpoint: str, secure: bool, expected: tuple[str, bool]) -> None:
    assert split_endpoint(endpoint, secure) == expected


@pytest.mark.parametrize("endpoint", ["ftp://minio:9000", "http://minio:9000/bucket", "http://"])
def test_split_endpoint_refuses_other_urls(endpoint: str) -> None:
    with pytest.raises(ConfigError):
        split_endpoint(endpoint, False)


def test_ping_is_false_when_the_server_is_gone() -> None:
    proc, endpoint = servers.start_s3()
    try:
        store = _store(endpoint, "fedloom-ping")
        assert store.ping() is True
    finally:
        servers.stop(proc)
    start = time.monotonic()
    assert store.ping() is False
    assert time.monotonic() - start < 5.0
