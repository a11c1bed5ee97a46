import time

import httpx
import torch

from conftest import enroll
from fedloom.wire import ClientUpdate, GlobalPayload, decode, encode

MSGPACK = {"Content-Type": "application/msgpack"}
CONFIG = {"algorithm": "fedproto", "num_classes": 3, "feature_dim": 4, "rounds": 1, "round_deadline_seconds": 30}


def update(cid: int, classes: list[int], protos: torch.Tensor, round_: int = 0) -> bytes:
    tensors = {"classes": torch.tensor(classes), "prototypes": protos}
    return encode(ClientUpdate(round=round_, client_id=cid, num_samples=10, tensors=tensors))


def wait_for(predicate, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_bad_federation_configs_are_refused(admin: httpx.Client) -> None:
    assert admin.post("/v1/federations", json={**CONFIG, "algorithm": "nope"}).status_code == 422
    bad = admin.post("/v1/federations", json={**CONFIG, "options": {"lam": -1}})
    assert bad.status_code == 422 and "lam" in bad.json()["detail"]
    assert admin.post("/v1/federations", json={**CONFIG, "rounds": 0}).status_code == 422
    fid = admin.post("/v1/federations", json=CONFIG).json()["federation_id"]
    assert admin.post(f"/v1/federations/{fid}/start").status_code == 409  # no clients enrolled
    assert admin.get("/v1/federations/unknown").status_code == 404


def test_one_round_through_rest_with_every_bad_upload_refused(aggregator: str, admin: httpx.Client) -> None:
    (a, ca), (b, cb) = enroll(aggregator, admin, "a"), enroll(aggregator, admin, "b")
    fid = admin.post("/v1/federations", json=CONFIG).json()["federation_id"]
    assert admin.post(f"/v1/federations/{fid}/start").json()["status"] == "running"
    task = ca.get("/v1/tasks/next", params={"wait": 5}).json()
    assert (task["federation_id"], task["round"], task["kind"]) == (fid, 0, "fit")
    assert cb.get("/v1/tasks/next", params={"wait": 5}).json()["kind"] == "fit"
    package = decode(ca.get(f"/v1/federations/{fid}/rounds/0/package").content, GlobalPayload)
    assert package.round == 0 and package.tensors == {}
    assert ca.get(f"/v1/federations/{fid}/bootstrap").status_code == 200

    url = f"/v1/federations/{fid}/rounds/0/update"
    good = update(a, [0, 1], torch.ones(2, 4))
    refused = {
        "wrong content type": (ca.put(url, content=good, headers={"Content-Type": "application/json"}), 415),
        "garbage": (ca.put(url, content=b"\xc1\xc1", headers=MSGPACK), 400),
        "another client's id": (ca.put(url, content=update(b, [0], torch.ones(1, 4)), headers=MSGPACK), 403),
        "wrong shape": (ca.put(url, content=update(a, [0], torch.ones(1, 5)), headers=MSGPACK), 400),
        "wrong dtype": (ca.put(url, content=update(a, [0], torch.ones(1, 4).double()), headers=MSGPACK), 400),
        "NaN": (ca.put(url, content=update(a, [0], torch.full((1, 4), float("nan"))), headers=MSGPACK), 400),
        "class out of range": (ca.put(url, content=update(a, [7], torch.ones(1, 4)), headers=MSGPACK), 400),
        "closed round": (
            ca.put(
                f"/v1/federations/{fid}/rounds/3/update", content=update(a, [0], torch.ones(1, 4), 3), headers=MSGPACK
            ),
            409,
        ),
        "oversized": (ca.put(url, content=b"\x00" * (300 * 1024), headers=MSGPACK), 413),
    }
    for name, (response, status) in refused.items():
        assert response.status_code == status, (name, response.text)
        assert response.json()["detail"], name
    assert httpx.get(f"{aggregator}/healthz").status_code == 200

    assert ca.put(url, content=good, headers=MSGPACK).json() == {"accepted": True, "duplicate": False}
    assert ca.put(url, content=good, headers=MSGPACK).json() == {"accepted": True, "duplicate": True}
    assert cb.put(url, content=update(b, [1], 3 * torch.ones(1, 4)), headers=MSGPACK).json()["duplicate"] is False

    for client, correct in ((ca, 4), (cb, 1)):
        task = client.get("/v1/tasks/next", params={"wait": 10}).json()
        assert (task["kind"], task["round"]) == ("evaluate", 0)
        report = {"correct": correct, "total": 5, "loss": 0.0}
        assert client.post(f"/v1/federations/{fid}/rounds/0/metrics", json=report).status_code == 204
    wait_for(lambda: admin.get(f"/v1/federations/{fid}").json()["status"] == "finished")
    state = admin.get(f"/v1/federations/{fid}").json()
    assert state["rounds"][0]["accuracy"] == 0.5 and state["rounds"][0]["uploads"] == 2
    final = decode(ca.get(f"/v1/federations/{fid}/rounds/1/package").content, GlobalPayload)
    assert final.tensors["classes"].tolist() == [0, 1]
    assert torch.equal(final.tensors["prototypes"], torch.tensor([[1.0] * 4, [2.0] * 4]))  # mean of 1 and 3
    records = {c["client_id"]: c for c in admin.get("/v1/clients").json()}
    assert [records[c]["rounds_joined"] for c in (a, b)] == [1, 1]
    assert [records[c]["last_accuracy"] for c in (a, b)] == [0.8, 0.2]
    assert records[a]["bytes_sent"] == len(good) and records[a]["last_seen"] is not None
    assert [f["federation_id"] for f in admin.get("/v1/federations").json()] == [fid]
    phases = state["rounds"][0]["phase_seconds"]
    assert {"open", "collecting", "aggregating"} <= phases.keys()
    text = httpx.get(f"{aggregator}/metrics").text
    assert "fedloom_uploads_total 2" in text and "fedloom_rounds_completed 1" in text
    assert "fedloom_active_clients 2" in text
