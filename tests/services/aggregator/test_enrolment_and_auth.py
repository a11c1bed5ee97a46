import httpx

from conftest import enroll


def test_enrolment_token_is_single_use_and_api_token_authenticates(aggregator: str, admin: httpx.Client) -> None:
    token = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 60}).json()["token"]
    first = httpx.post(f"{aggregator}/v1/clients", json={"enrollment_token": token, "name": "a"})
    assert first.status_code == 201 and first.json()["client_id"] == 0
    again = httpx.post(f"{aggregator}/v1/clients", json={"enrollment_token": token, "name": "b"})
    assert again.status_code == 401 and "already used" in again.json()["detail"]
    listed = admin.get("/v1/clients").json()
    assert [c["name"] for c in listed] == ["a"]
    assert "api_token" not in listed[0]


def test_admin_routes_refuse_missing_and_client_tokens(aggregator: str, admin: httpx.Client) -> None:
    _, client = enroll(aggregator, admin)
    assert httpx.get(f"{aggregator}/v1/clients").status_code == 401
    assert client.get("/v1/clients").status_code == 401
    assert client.post("/v1/admin/enrollment-tokens", json={}).status_code == 401
    assert httpx.get(f"{aggregator}/v1/tasks/next", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_removed_client_is_refused_at_once(aggregator: str, admin: httpx.Client) -> None:
    cid, client = enroll(aggregator, admin)
    assert client.get("/v1/tasks/next").status_code == 204
    assert admin.delete(f"/v1/clients/{cid}").status_code == 204
    assert client.get("/v1/tasks/next").status_code == 401
    assert admin.delete(f"/v1/clients/{cid}").status_code == 404


def test_health_readiness_and_prometheus(aggregator: str) -> None:
    assert httpx.get(f"{aggregator}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{aggregator}/readyz")
    assert ready.status_code == 200 and ready.json() == {"state_store": True, "artifact_store": True}
    text = httpx.get(f"{aggregator}/metrics").text
    assert 'fedloom_request_seconds_count{route="/readyz"} 1' in text
    assert "fedloom_enrolled_clients 0" in text and "fedloom_rounds_completed 0" in text
