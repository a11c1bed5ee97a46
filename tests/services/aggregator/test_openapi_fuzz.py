"""Schemathesis against the live aggregator (real HTTP, real Redis): generated requests never get a 5xx.

Every operation of the OpenAPI document gets a bounded number of generated requests (valid ones,
invalid ones, and valid ones aimed at a running federation), each with the token its tag needs so the
fuzzing reaches past authentication.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
import schemathesis

from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from openapi_fuzz import MODES, case_id, fuzz, fuzz_cases
from servers import serving

ADMIN = "fuzz-admin-token-0123456789abcdef"
FUZZ_DB = 6
FEDERATION = {"algorithm": "fedproto", "num_classes": 3, "feature_dim": 4, "rounds": 1, "round_deadline_seconds": 120}
ON_FEDERATION = "valid, on a running federation"
CASES = fuzz_cases(create_app(AggregatorSettings(admin_token=ADMIN)), [*MODES, ON_FEDERATION])


@dataclass(frozen=True)
class Live:
    url: str
    api_token: str
    federation_id: str


@pytest.fixture(scope="module")
def live(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """An aggregator on its own Redis database, one enrolled client and one running federation."""
    url_redis = redis_url.rsplit("/", 1)[0] + f"/{FUZZ_DB}"
    redis.Redis.from_url(url_redis).flushdb()
    folder: Path = tmp_path_factory.mktemp("fuzz")
    settings = AggregatorSettings(
        admin_token=ADMIN,
        redis_url=url_redis,
        artifact_dir=folder / "artifacts",
        max_body_bytes=64 * 1024,
        max_poll_seconds=0.2,
        rate_limit_per_second=1000.0,
        rate_limit_burst=1000,
    )
    with serving(create_app(settings)) as url:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        token = httpx.post(f"{url}/v1/admin/enrollment-tokens", json={}, headers=admin).json()["token"]
        api_token = httpx.post(f"{url}/v1/clients", json={"enrollment_token": token}).json()["api_token"]
        fid = httpx.post(f"{url}/v1/federations", json=FEDERATION, headers=admin).json()["federation_id"]
        assert httpx.post(f"{url}/v1/federations/{fid}/start", headers=admin).status_code == 200
        yield Live(url, api_token, fid)


@pytest.mark.parametrize(("operation", "mode"), CASES, ids=[case_id(c) for c in CASES])
def test_no_generated_request_gets_a_server_error(operation: schemathesis.APIOperation, mode: str, live: Live) -> None:
    tags = operation.definition.raw.get("tags", [])
    token = ADMIN if "admin" in tags else live.api_token
    headers = {"Authorization": f"Bearer {token}"} if tags != ["health"] else {}
    on_federation = mode == ON_FEDERATION and "{federation_id}" in operation.path
    known = {"federation_id": live.federation_id} if on_federation else None
    fuzz(operation, MODES.get(mode, MODES["valid"]), live.url, headers, known)
