"""The generator service SIGKILLed before FedKTL aggregates: each round retries for its budget, then does
what its federation says (fail: the federation fails and says why; proceed: the round is published
without new images and the next round, with the generator back, makes them). No process crashes."""

from __future__ import annotations

import httpx
from cluster import FEDKTL_CLASSES, FEDKTL_SHAPE, REMOTE_FEDKTL, Cluster, report_all, sigkill, upload_all

CLASSES, SHAPE = FEDKTL_CLASSES, FEDKTL_SHAPE
CONFIG = {**REMOTE_FEDKTL, "generator_retry_seconds": 2}


def test_an_unreachable_generator_fails_or_skips_the_round_as_configured(cluster: Cluster) -> None:
    generator = cluster.start_generator()
    aggregator = cluster.start_aggregator()
    clients = [cluster.enrol() for _ in range(2)]
    failing = cluster.create({**CONFIG, "on_generator_failure": "fail"})
    proceeding = cluster.create({**CONFIG, "on_generator_failure": "proceed"})
    for fid in (failing, proceeding):
        cluster.wait_phase(fid, 0, ("collecting",))
    sigkill(generator)
    for fid in (failing, proceeding):
        for client in clients:
            assert client.upload(fid, 0, *SHAPE).json()["accepted"] is True

    failed = cluster.wait_done(failing, seconds=60)
    assert failed["status"] == "failed" and failed["rounds"] == []
    assert "GeneratorUnavailable" in str(failed["error"]) and cluster.generator_url in str(failed["error"])
    assert cluster.book.phase(failing, 0) == "failed"

    report_all(cluster, clients, proceeding, 0)
    assert cluster.package(proceeding, 1).tensors == {}  # published without images
    cluster.start_generator()
    upload_all(cluster, clients, proceeding, 1, SHAPE)
    state = cluster.wait_done(proceeding)
    assert state["status"] == "finished" and state["error"] is None
    notes = [r["note"] for r in state["rounds"]]  # type: ignore[attr-defined]
    assert "generator unavailable" in notes[0] and "2 uploads not aggregated" in notes[0]
    assert notes[1] is None
    final = cluster.package(proceeding, 2)
    assert final.tensors["images"].shape == (CLASSES, 1, 8, 8) and final.tensors["latents"].shape[0] == CLASSES

    assert aggregator.process.poll() is None
    assert httpx.get(f"{cluster.aggregator_url}/healthz").status_code == 200
