"""The shared enrolment token of operator-deployed agents (compose, k8s): reusable, exact, optional."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from fedloom_aggregator.app import create_app
from fedloom_aggregator.security import without_password
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving

ADMIN = "admin-token-for-tests-0123456789"
SHARED = "shared-enrolment-token-0123456789"


@pytest.fixture
def fleet_aggregator(tmp_path: Path) -> Iterator[str]:
    settings = AggregatorSettings(admin_token=ADMIN, artifact_dir=tmp_path, shared_enrollment_token=SHARED)
    with serving(create_app(settings)) as url:
        yield url


def test_the_shared_token_enrols_any_number_of_agents(fleet_aggregator: str) -> None:
    ids = []
    for name in ("agent-0", "agent-1", "agent-2"):
        answer = httpx.post(f"{fleet_aggregator}/v1/clients", json={"enrollment_token": SHARED, "name": name})
        assert answer.status_code == 201
        ids.append(answer.json()["client_id"])
        token = answer.json()["api_token"]
        assert (
            httpx.get(f"{fleet_aggregator}/v1/tasks/next", headers={"Authorization": f"Bearer {token}"}).status_code
            == 204
        )
    assert ids == [0, 1, 2]


def test_near_misses_of_the_shared_token_are_refused(fleet_aggregator: str) -> None:
    for wrong in (SHARED[:-1], SHARED + "x", SHARED.upper(), ADMIN):
        answer = httpx.post(f"{fleet_aggregator}/v1/clients", json={"enrollment_token": wrong})
        assert answer.status_code == 401 and "enrolment token" in answer.json()["detail"]


def test_one_time_tokens_still_work_beside_it(fleet_aggregator: str) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    token = httpx.post(f"{fleet_aggregator}/v1/admin/enrollment-tokens", json={}, headers=admin).json()["token"]
    assert httpx.post(f"{fleet_aggregator}/v1/clients", json={"enrollment_token": token}).status_code == 201
    assert httpx.post(f"{fleet_aggregator}/v1/clients", json={"enrollment_token": token}).status_code == 401


def test_without_the_setting_no_token_is_reusable(aggregator: str) -> None:
    answer = httpx.post(f"{aggregator}/v1/clients", json={"enrollment_token": SHARED})
    assert answer.status_code == 401


def test_a_short_shared_token_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError, match="shared_enrollment_token"):
        AggregatorSettings(admin_token=ADMIN, shared_enrollment_token="short")


def test_logged_store_urls_hide_the_password() -> None:
    assert without_password("redis://:s3cret@fedloom-redis:6379/0") == "redis://:***@fedloom-redis:6379/0"
    assert without_password("redis://user:s3cret@redis/0") == "redis://user:***@redis/0"
    assert without_password("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
