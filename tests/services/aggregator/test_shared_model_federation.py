"""FML through the aggregator's REST API: the shared model's architecture fixed at start, packages whose large
tensors are stored apart and referenced, wrong models refused at the door, the unweighted mean published."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import torch
from test_federation_flow import MSGPACK, wait_for

from conftest import ADMIN, enroll
from fedloom.algorithms.model_parts import part_tensors
from fedloom.algorithms.shared_model import SHARED, arch_name
from fedloom.models import build_model
from fedloom.ops.packages import download_package
from fedloom.wire import ClientUpdate, GlobalPayload, decode, encode
from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving

CONFIG = {
    "algorithm": "fml",
    "num_classes": 3,
    "feature_dim": 8,
    "input_shape": [1, 28, 28],
    "rounds": 1,
    "round_deadline_seconds": 30,
    "shared_architecture": "cnn4",
}


@pytest.fixture
def aggregator(tmp_path: Path) -> Iterator[str]:
    settings = AggregatorSettings(
        admin_token=ADMIN, artifact_dir=tmp_path / "artifacts", max_body_bytes=1024 * 1024, inline_tensor_bytes=16384
    )
    with serving(create_app(settings)) as url:
        yield url


def model_update(cid: int, tensors: dict[str, torch.Tensor]) -> bytes:
    return encode(ClientUpdate(round=0, client_id=cid, num_samples=10, tensors=tensors))


def test_unknown_shared_architecture_is_refused(admin: httpx.Client) -> None:
    response = admin.post("/v1/federations", json={**CONFIG, "shared_architecture": "resnet9000"})
    assert response.status_code == 422 and "resnet9000" in response.json()["detail"]


def test_one_fml_round_through_rest(aggregator: str, admin: httpx.Client) -> None:
    (a, ca), (b, cb) = enroll(aggregator, admin, "a"), enroll(aggregator, admin, "b")
    fid = admin.post("/v1/federations", json=CONFIG).json()["federation_id"]
    assert admin.post(f"/v1/federations/{fid}/start").json()["status"] == "running"
    assert ca.get("/v1/tasks/next", params={"wait": 5}).json()["kind"] == "fit"
    assert cb.get("/v1/tasks/next", params={"wait": 5}).json()["kind"] == "fit"

    bootstrap = decode(ca.get(f"/v1/federations/{fid}/bootstrap").content, GlobalPayload)
    assert arch_name(bootstrap.tensors) == "cnn4"
    expected = part_tensors(build_model("cnn4", (1, 28, 28), 3, 8), SHARED)
    raw = decode(ca.get(f"/v1/federations/{fid}/rounds/0/package").content, GlobalPayload)
    assert raw.refs and all(expected[name].numel() * 4 > 16384 for name in raw.refs)  # large ones apart
    assert raw.tensors and all(t.numel() * 4 <= 16384 for t in raw.tensors.values())
    package = download_package(ca, fid, 0)
    assert package is not None and package.refs == {}
    assert {k: v.shape for k, v in package.tensors.items()} == {k: v.shape for k, v in expected.items()}
    assert ca.get(f"/v1/federations/{fid}/blobs/not-a-digest").status_code == 404
    assert ca.get(f"/v1/federations/{fid}/blobs/{'0' * 64}").status_code == 404

    url = f"/v1/federations/{fid}/rounds/0/update"
    name = next(iter(package.tensors))
    wrong_shape = model_update(a, {**package.tensors, name: torch.zeros(2, 2)})
    not_a_model = model_update(a, {"classes": torch.tensor([0]), "prototypes": torch.ones(1, 8)})
    for body in (wrong_shape, not_a_model):
        response = ca.put(url, content=body, headers=MSGPACK)
        assert response.status_code == 400 and response.json()["detail"]

    params = package.tensors
    assert ca.put(url, content=model_update(a, params), headers=MSGPACK).json()["duplicate"] is False
    tripled = {k: 3 * v for k, v in params.items()}
    assert cb.put(url, content=model_update(b, tripled), headers=MSGPACK).json()["duplicate"] is False
    for client in (ca, cb):
        assert client.get("/v1/tasks/next", params={"wait": 10}).json()["kind"] == "evaluate"
        report = {"correct": 1, "total": 2}
        assert client.post(f"/v1/federations/{fid}/rounds/0/metrics", json=report).status_code == 204
    wait_for(lambda: admin.get(f"/v1/federations/{fid}").json()["status"] == "finished")
    final = download_package(admin, fid, 1)
    assert final is not None
    for key, value in params.items():
        torch.testing.assert_close(final.tensors[key], 2 * value)
    state = admin.get(f"/v1/federations/{fid}").json()
    assert state["rounds"][0]["upload_bytes"] > 2 * 4 * sum(v.numel() for v in params.values())
