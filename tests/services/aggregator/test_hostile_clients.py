"""What one enrolled client cannot do to the aggregator (issue 19): make it echo megabytes back or spend its
CPU on bodies it will refuse, forge or pre-fill evaluation reports, or start a federation twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import httpx
import msgpack
import pytest
import torch

from conftest import ADMIN, enroll
from fedloom.wire import ClientUpdate, encode
from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving

MSGPACK = {"Content-Type": "application/msgpack"}
CONFIG = {"algorithm": "fedproto", "num_classes": 4, "feature_dim": 16, "rounds": 2, "round_deadline_seconds": 60}
HOSTILE_BODIES = {
    "one array of a million empty maps": b"\xdd" + (1_000_000).to_bytes(4, "big") + b"\x80" * 1_000_000,
    "a thousand arrays of a thousand maps": msgpack.packb({"tensors": {str(i): [{}] * 1000 for i in range(1000)}}),
    "a 256 KiB map of maps": msgpack.packb({str(i): {} for i in range(40_000)}),
    "a huge string": msgpack.packb({"round": 0, "values": {"x": "y" * 1_000_000}}),
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, httpx.Client, object]]:
    """An aggregator taking bodies up to 2 MB, with a generous rate limit; yields URL, admin client, app."""
    settings = AggregatorSettings(
        admin_token=ADMIN, artifact_dir=tmp_path, max_body_bytes=2 * 1024 * 1024, rate_limit_per_second=1000
    )
    app = create_app(settings)
    with serving(app) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
        yield url, admin, app


def started(admin: httpx.Client, clients: int, url: str) -> tuple[str, list[tuple[int, httpx.Client]]]:
    enrolled = [enroll(url, admin, f"c{i}") for i in range(clients)]
    fid = admin.post("/v1/federations", json=CONFIG).json()["federation_id"]
    assert admin.post(f"/v1/federations/{fid}/start").status_code == 200
    return fid, enrolled


def upload(client: httpx.Client, fid: str, cid: int, round_: int = 0) -> httpx.Response:
    tensors = {"classes": torch.arange(4), "prototypes": torch.randn(4, 16)}
    body = encode(ClientUpdate(round=round_, client_id=cid, num_samples=10, tensors=tensors))
    return client.put(f"/v1/federations/{fid}/rounds/{round_}/update", content=body, headers=MSGPACK)


def test_hostile_bodies_get_a_small_4xx_for_little_cpu_while_polls_answer(
    served: tuple[str, httpx.Client, object],
) -> None:
    url, admin, _ = served
    fid, [(cid, client), (other, poller)] = started(admin, 2, url)
    next_task(client, "fit", 0)  # round 0 collects
    poll_seconds: list[float] = []

    def poll() -> None:  # the other client's long-polls (its round-0 task first) stay prompt meanwhile
        for _ in range(4):
            start = time.monotonic()
            poller.get("/v1/tasks/next", params={"wait": 0.3}, timeout=30)
            poll_seconds.append(time.monotonic() - start)

    polling = threading.Thread(target=poll)
    polling.start()
    for name, body in HOSTILE_BODIES.items():
        cpu = time.process_time()
        response = client.put(f"/v1/federations/{fid}/rounds/0/update", content=body, headers=MSGPACK, timeout=30)
        spent = time.process_time() - cpu  # this process: the test client and the served aggregator
        assert response.status_code == 400, (name, response.status_code)
        assert len(response.content) < 1200, (name, len(response.content))
        assert spent < 0.25, (name, spent)
    polling.join()
    assert max(poll_seconds) < 2.0, poll_seconds
    assert upload(client, fid, cid).json() == {"accepted": True, "duplicate": False}  # still welcome


def test_refusals_that_need_no_body_come_before_decoding(served: tuple[str, httpx.Client, object]) -> None:
    url, admin, _ = served
    fid, [(cid, client)] = started(admin, 1, url)
    late_id, late = enroll(url, admin, "late")  # enrolled after the start: not selected
    garbage = b"\xc1" * 1_000_000  # not msgpack at all: a decoder would say so
    assert late.put(f"/v1/federations/{fid}/rounds/0/update", content=garbage, headers=MSGPACK).status_code == 403
    assert client.put("/v1/federations/nope/rounds/0/update", content=garbage, headers=MSGPACK).status_code == 404
    assert client.put(f"/v1/federations/{fid}/rounds/1/update", content=garbage, headers=MSGPACK).status_code == 409


def next_task(client: httpx.Client, kind: str, round_: int) -> None:
    """Take the client's tasks until the one asked for (the round is open by then)."""
    deadline = time.monotonic() + 30
    while True:
        response = client.get("/v1/tasks/next", params={"wait": 1})
        if response.status_code == 200 and (response.json()["kind"], response.json()["round"]) == (kind, round_):
            return
        assert time.monotonic() < deadline, response.text


def report(client: httpx.Client, fid: str, round_: int, correct: int, total: int) -> httpx.Response:
    return client.post(f"/v1/federations/{fid}/rounds/{round_}/metrics", json={"correct": correct, "total": total})


def test_metrics_cannot_be_forged_prefilled_or_overwritten(served: tuple[str, httpx.Client, object]) -> None:
    url, admin, _ = served
    fid, [(a, ca), (b, cb)] = started(admin, 2, url)
    late_id, late = enroll(url, admin, "late")
    assert report(ca, fid, 1, 5, 10).status_code == 409  # a future round
    assert report(ca, fid, 0, 5, 10).status_code == 409  # round 0 is still collecting
    assert report(ca, fid, 0, 11, 10).status_code == 422  # more correct than tested
    assert report(ca, fid, 0, 1, 10**9).status_code == 422  # an absurd test split
    assert upload(ca, fid, a).status_code == 200 and upload(cb, fid, b).status_code == 200
    deadline = time.monotonic() + 30
    while admin.get(f"/v1/federations/{fid}").json()["rounds"] == [] and report(ca, fid, 0, 6, 10).status_code == 409:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert report(ca, fid, 0, 10, 10).status_code == 204  # a repeat: taken, changes nothing
    assert report(late, fid, 0, 10, 10).status_code == 403  # not asked to evaluate
    assert report(cb, fid, 0, 3, 12).status_code == 204
    rows = admin.get(f"/v1/federations/{fid}/client-metrics").json()
    while not rows:
        time.sleep(0.05)
        rows = admin.get(f"/v1/federations/{fid}/client-metrics").json()
    assert {(r["client_id"], r["correct"], r["total"]) for r in rows if r["round"] == 0} == {(a, 6, 10), (b, 3, 12)}
    for client in (ca, cb):
        next_task(client, "fit", 1)
    assert upload(ca, fid, a, 1).status_code == 200 and upload(cb, fid, b, 1).status_code == 200
    deadline = time.monotonic() + 30
    while report(cb, fid, 1, 3, 12).status_code == 409:  # until round 1 is evaluated
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert report(ca, fid, 1, 3, 11).status_code == 409  # its test split was 10 samples


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_concurrent_starts_run_one_loop(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    redis_url = request.getfixturevalue("redis_url") if store == "redis" else None
    apps = [
        create_app(AggregatorSettings(admin_token=ADMIN, artifact_dir=tmp_path, redis_url=redis_url))
        for _ in range(2 if redis_url else 1)
    ]  # with Redis: two replicas sharing it
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with (
        serving(apps[0]) as url,
        serving(apps[-1]) if redis_url else nullcontext(url) as other,
        httpx.Client(base_url=url, headers=headers) as admin,
    ):
        [enroll(url, admin, f"c{i}") for i in range(2)]
        fid = admin.post("/v1/federations", json=CONFIG).json()["federation_id"]
        targets = [url, other] * 4

        def start(target: str) -> int:
            return httpx.post(f"{target}/v1/federations/{fid}/start", headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(len(targets)) as pool:
            codes = list(pool.map(start, targets))
        assert sorted(codes) == [200] + [409] * (len(targets) - 1)
        loops = [t for app in apps for f, t in app.state.coordinator.loops.threads.items() if f == fid]
        assert len(loops) == 1
