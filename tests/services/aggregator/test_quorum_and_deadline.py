import httpx
import torch
from test_federation_flow import MSGPACK, update, wait_for

from conftest import enroll

QUICK = {"algorithm": "fedproto", "num_classes": 3, "feature_dim": 4, "rounds": 1, "round_deadline_seconds": 1.5}


def test_round_closes_at_the_deadline_when_the_quorum_uploaded(aggregator: str, admin: httpx.Client) -> None:
    (a, ca), _ = enroll(aggregator, admin, "a"), enroll(aggregator, admin, "silent")
    fid = admin.post("/v1/federations", json={**QUICK, "quorum_fraction": 0.5}).json()["federation_id"]
    admin.post(f"/v1/federations/{fid}/start").raise_for_status()
    assert ca.get("/v1/tasks/next", params={"wait": 5}).json()["kind"] == "fit"
    body = update(a, [0], torch.ones(1, 4))
    assert ca.put(f"/v1/federations/{fid}/rounds/0/update", content=body, headers=MSGPACK).status_code == 200
    wait_for(lambda: admin.get(f"/v1/federations/{fid}").json()["status"] != "running")
    state = admin.get(f"/v1/federations/{fid}").json()
    assert state["status"] == "finished" and state["rounds"][0]["uploads"] == 1
    late = ca.put(f"/v1/federations/{fid}/rounds/0/update", content=body, headers=MSGPACK)
    assert late.status_code == 409  # the round is closed: late uploads are refused, not counted


def test_round_fails_clearly_without_the_quorum(aggregator: str, admin: httpx.Client) -> None:
    enroll(aggregator, admin, "a")
    enroll(aggregator, admin, "b")
    fid = admin.post("/v1/federations", json=QUICK).json()["federation_id"]
    admin.post(f"/v1/federations/{fid}/start").raise_for_status()
    wait_for(lambda: admin.get(f"/v1/federations/{fid}").json()["status"] != "running")
    assert admin.get(f"/v1/federations/{fid}").json()["status"] == "failed"
    assert httpx.get(f"{aggregator}/healthz").status_code == 200
