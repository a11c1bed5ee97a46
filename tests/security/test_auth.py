"""Authentication and authorisation against a live aggregator on real Redis: every route's guard."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
import redis
import torch
from security_helpers import ADMIN, admin_client, aggregator, as_client, enroll, fresh_redis, settings_for

from fedloom.wire import ClientUpdate, encode

MSGPACK = {"Content-Type": "application/msgpack"}
FEDERATION = {"algorithm": "fedproto", "num_classes": 3, "feature_dim": 4, "rounds": 1, "round_deadline_seconds": 60}
PARAMS = {"federation_id": "f0", "round": "0", "client_id": "0", "digest": "0" * 64}


def operations(url: str, tag: str) -> list[tuple[str, str]]:
    """(method, concrete path) of every operation the OpenAPI document files under `tag`."""
    spec = httpx.get(f"{url}/openapi.json").json()
    found = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if tag in operation.get("tags", []):
                found.append((method.upper(), path.format(**PARAMS)))
    return found


def upload_body(client_id: int) -> bytes:
    tensors = {"classes": torch.tensor([0]), "prototypes": torch.ones(1, 4)}
    return encode(ClientUpdate(round=0, client_id=client_id, num_samples=5, tensors=tensors))


def test_every_client_and_admin_route_refuses_missing_wrong_and_foreign_tokens(redis_url: str, tmp_path: Path) -> None:
    with aggregator(settings_for(fresh_redis(redis_url), tmp_path)) as url:
        _, api_token = enroll(url)
        client_ops = [op for op in operations(url, "clients") if op != ("POST", "/v1/clients")]
        admin_ops = operations(url, "admin")
        assert len(client_ops) >= 5 and len(admin_ops) >= 6
        for method, path in client_ops + admin_ops:
            for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": api_token}):
                answer = httpx.request(method, url + path, headers=headers)
                assert answer.status_code == 401, (method, path, headers, answer.text)
                assert answer.json()["detail"]
        for method, path in admin_ops:  # a client's valid token opens no admin route
            answer = httpx.request(method, url + path, headers={"Authorization": f"Bearer {api_token}"})
            assert answer.status_code == 401, (method, path)


def test_a_client_can_neither_upload_nor_read_as_another(redis_url: str, tmp_path: Path) -> None:
    with aggregator(settings_for(fresh_redis(redis_url), tmp_path)) as url, admin_client(url) as admin:
        (a, token_a), (b, _) = enroll(url, "a"), enroll(url, "b")
        fid = admin.post("/v1/federations", json={**FEDERATION, "round_deadline_seconds": 4}).json()["federation_id"]
        assert admin.post(f"/v1/federations/{fid}/start").status_code == 200
        outsider, token_c = enroll(url, "late")  # enrolled after the start: not a member
        with as_client(url, token_a) as ca, as_client(url, token_c) as cc:
            assert ca.get("/v1/tasks/next", params={"wait": 10}).json()["round"] == 0
            posing = ca.put(f"/v1/federations/{fid}/rounds/0/update", content=upload_body(b), headers=MSGPACK)
            assert posing.status_code == 403 and f"as client {b}" in posing.json()["detail"]
            own = cc.put(f"/v1/federations/{fid}/rounds/0/update", content=upload_body(outsider), headers=MSGPACK)
            assert own.status_code == 403 and "not selected" in own.json()["detail"]
            for path in (f"/v1/federations/{fid}/bootstrap", f"/v1/federations/{fid}/rounds/0/package"):
                assert cc.get(path).status_code == 403
                assert ca.get(path).status_code == 200
            metrics = {"correct": 1, "total": 2}
            assert cc.post(f"/v1/federations/{fid}/rounds/0/metrics", json=metrics).status_code == 403
            assert cc.get("/v1/tasks/next").status_code == 204  # its own (empty) queue, never a's
        deadline = time.monotonic() + 30  # no uploads: the round fails at its deadline and the loop ends
        while admin.get(f"/v1/federations/{fid}").json()["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert a == 0


def test_tokens_are_stored_hashed_and_a_revoked_token_is_refused_at_once_everywhere(
    redis_url: str, tmp_path: Path
) -> None:
    url_redis = fresh_redis(redis_url)
    settings = settings_for(url_redis, tmp_path)
    with aggregator(settings) as first, aggregator(settings) as second:  # two replicas, one Redis
        cid, api_token = enroll(first)
        stored = redis.Redis.from_url(url_redis)
        everything = b"".join(
            b"".join(stored.hgetall(k).values()) + b"".join(stored.hgetall(k).keys())
            for k in stored.scan_iter()
            if stored.type(k) == b"hash"
        )
        assert api_token.encode() not in everything and b"enrol_" not in everything
        with as_client(second, api_token) as client:
            assert client.get("/v1/tasks/next").status_code == 204
            with admin_client(first) as admin:
                assert admin.delete(f"/v1/clients/{cid}").status_code == 204
            refused = client.get("/v1/tasks/next")
            assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_enrolment_tokens_are_single_use_and_expire(redis_url: str, tmp_path: Path) -> None:
    with aggregator(settings_for(fresh_redis(redis_url), tmp_path)) as url, admin_client(url) as admin:
        short = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 1}).json()["token"]
        once = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 60}).json()["token"]
        assert httpx.post(f"{url}/v1/clients", json={"enrollment_token": once}).status_code == 201
        assert httpx.post(f"{url}/v1/clients", json={"enrollment_token": once}).status_code == 401
        time.sleep(1.5)
        expired = httpx.post(f"{url}/v1/clients", json={"enrollment_token": short})
        assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_rate_limit_answers_429_per_client_with_retry_after(redis_url: str, tmp_path: Path) -> None:
    settings = settings_for(fresh_redis(redis_url), tmp_path, rate_limit_per_second=0.5, rate_limit_burst=3)
    with aggregator(settings) as url:
        (_, token_a), (_, token_b) = enroll(url, "a"), enroll(url, "b")
        with as_client(url, token_a) as ca, as_client(url, token_b) as cb:
            answers = [ca.get("/v1/tasks/next").status_code for _ in range(4)]
            assert answers == [204, 204, 204, 429]
            limited = ca.get("/v1/tasks/next")
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
            assert "requests/s" in limited.json()["detail"]
            assert cb.get("/v1/tasks/next").status_code == 204  # b has its own bucket


def audit_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_admin_action_and_enrolment_leaves_an_audit_line_without_secrets(redis_url: str, tmp_path: Path) -> None:
    settings = settings_for(fresh_redis(redis_url), tmp_path)
    with aggregator(settings) as url, admin_client(url) as admin:
        cid, api_token = enroll(url)
        admin.get("/v1/clients")
        admin.post("/v1/federations", json={**FEDERATION, "algorithm": "nope"})
        admin.delete(f"/v1/clients/{cid}")
        httpx.get(f"{url}/v1/clients", headers={"Authorization": "Bearer guess"})
        httpx.post(f"{url}/v1/clients", json={"enrollment_token": "enrol_forged"})
    lines = audit_lines(tmp_path / "audit.jsonl")
    seen = [(line["action"], line["outcome"]) for line in lines]
    assert seen == [
        ("POST /v1/admin/enrollment-tokens", "ok"),
        ("enrol", "ok"),
        ("GET /v1/clients", "ok"),
        ("POST /v1/federations", "failed"),
        (f"DELETE /v1/clients/{cid}", "ok"),
        ("GET /v1/clients", "refused"),
        ("enrol", "refused"),
    ]
    assert lines[1]["client_id"] == cid and all(line["ts"] for line in lines)
    text = (tmp_path / "audit.jsonl").read_text()
    assert ADMIN not in text and api_token not in text and "guess" not in text


@pytest.mark.parametrize("ttl", [0, 10**9])
def test_enrolment_token_lifetimes_outside_the_bounds_are_refused(redis_url: str, tmp_path: Path, ttl: int) -> None:
    with aggregator(settings_for(fresh_redis(redis_url), tmp_path)) as url, admin_client(url) as admin:
        assert admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": ttl}).status_code == 422
