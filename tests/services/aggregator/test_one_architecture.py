"""FedAvg and the personalised algorithms average whole models: a federation whose enrolled clients declared
different architectures is refused at start with a 422 naming them; one architecture starts."""

from __future__ import annotations

import httpx


def enrol_as(aggregator: str, admin: httpx.Client, architecture: str) -> None:
    token = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 60}).json()["token"]
    body = {"enrollment_token": token, "architecture": architecture}
    assert httpx.post(f"{aggregator}/v1/clients", json=body).status_code == 201


CONFIG = {"algorithm": "fedavg", "num_classes": 10, "input_shape": [1, 28, 28], "rounds": 1}


def test_mixed_architectures_are_refused_at_start(aggregator: str, admin: httpx.Client) -> None:
    for architecture in ("cnn4", "hcnn8_2"):
        enrol_as(aggregator, admin, architecture)
    fid = admin.post("/v1/federations", json=CONFIG).json()["federation_id"]
    refused = admin.post(f"/v1/federations/{fid}/start")
    assert refused.status_code == 422 and "cnn4, hcnn8_2" in refused.json()["detail"]
    assert admin.get(f"/v1/federations/{fid}").json()["status"] == "created"


def test_one_architecture_starts(aggregator: str, admin: httpx.Client) -> None:
    for _ in range(2):
        enrol_as(aggregator, admin, "cnn4")
    fid = admin.post("/v1/federations", json=CONFIG).json()["federation_id"]
    assert admin.post(f"/v1/federations/{fid}/start").status_code == 200
