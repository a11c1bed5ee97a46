"""Session-wide real servers for the tests: a private redis-server and an S3 (moto) server on loopback."""

from collections.abc import Iterator

import pytest

import servers


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    proc, url = servers.start_redis()
    yield url
    servers.stop(proc)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    proc, endpoint = servers.start_s3()
    yield endpoint
    servers.stop(proc)
