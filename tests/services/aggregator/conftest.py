from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving

ADMIN = "admin-token-for-tests-0123456789"


@pytest.fixture
def aggregator(tmp_path: Path) -> Iterator[str]:
    """A live aggregator (in-process state, local artifacts) on a free port; yields its URL."""
    settings = AggregatorSettings(admin_token=ADMIN, artifact_dir=tmp_path / "artifacts", max_body_bytes=256 * 1024)
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
def admin(aggregator: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=aggregator, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as client:
        yield client


def enroll(aggregator: str, admin: httpx.Client, name: str = "edge") -> tuple[int, httpx.Client]:
    """Enrol a client; returns its id and an httpx client carrying its API token."""
    token = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 60}).json()["token"]
    enrolled = httpx.post(f"{aggregator}/v1/clients", json={"enrollment_token": token, "name": name}).json()
    client = httpx.Client(base_url=aggregator, headers={"Authorization": f"Bearer {enrolled['api_token']}"}, timeout=30)
    return enrolled["client_id"], client
