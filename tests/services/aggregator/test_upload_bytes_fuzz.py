"""Any bytes PUT as an upload get a 4xx with a message from the live aggregator, never a 5xx or a hang."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgpack
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ADMIN, enroll
from fedloom.wire import ClientUpdate, encode
from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving

MSGPACK = {"Content-Type": "application/msgpack"}
CONFIG = {"algorithm": "fedktl", "num_classes": 4, "rounds": 1, "round_deadline_seconds": 120, "generator": "tiny"}
FIELDS = ["schema_version", "round", "client_id", "num_samples", "tensors", "values", "classes", "prototypes"]

tensor_maps = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from(["float32", "int64", "float64", "uint8", "nope"]),
        "shape": st.lists(st.integers(0, 2**40), max_size=4),
        "bytes": st.binary(max_size=128),
    }
)
leaves = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.floats(), st.text(max_size=8), tensor_maps)
bodies = st.one_of(
    st.binary(max_size=1024),
    st.dictionaries(
        st.sampled_from(FIELDS), st.recursive(leaves, lambda x: st.dictionaries(st.text(max_size=10), x))
    ).map(lambda body: msgpack.packb(body, use_bin_type=True)),
)


@pytest.fixture
def aggregator(tmp_path: Path) -> Iterator[str]:
    """As conftest's, with a rate limit one fuzzing client never reaches (429 has its own tests): every body
    reaches the decoder."""
    settings = AggregatorSettings(
        admin_token=ADMIN, artifact_dir=tmp_path / "artifacts", max_body_bytes=256 * 1024, rate_limit_per_second=1e4
    )
    with serving(create_app(settings)) as url:
        yield url


def test_any_upload_body_is_answered_with_a_4xx(aggregator: str, admin: httpx.Client) -> None:
    cid, client = enroll(aggregator, admin)
    fid = admin.post("/v1/federations", json=CONFIG).json()["federation_id"]
    assert admin.post(f"/v1/federations/{fid}/start").status_code == 200
    assert client.get("/v1/tasks/next", params={"wait": 30}).json()["kind"] == "fit"
    url = f"/v1/federations/{fid}/rounds/0/update"
    seen: set[int] = set()

    @given(body=bodies)
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def put(body: bytes) -> None:
        answer = client.put(url, content=body, headers=MSGPACK)
        assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
        assert answer.json()["detail"]
        seen.add(answer.status_code)

    put()
    assert seen <= {400, 403, 409, 413, 422}
    good = ClientUpdate(
        round=0, client_id=cid, num_samples=3, tensors={"classes": torch.arange(4), "prototypes": torch.eye(4)}
    )
    assert client.put(url, content=encode(good), headers=MSGPACK).json() == {"accepted": True, "duplicate": False}
    assert client.get("/v1/tasks/next", params={"wait": 60}).json()["kind"] == "evaluate"
    assert client.post(f"/v1/federations/{fid}/rounds/0/metrics", json={"correct": 1, "total": 1}).status_code == 204
    deadline = time.monotonic() + 60  # the round loop ends before the test does
    while admin.get(f"/v1/federations/{fid}").json()["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
