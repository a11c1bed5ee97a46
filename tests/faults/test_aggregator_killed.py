"""The aggregator SIGKILLed mid-round and started again resumes the same round from Redis and S3: uploads
accepted before the kill are kept, a client's repeat is not counted twice, and the federation ends with
exactly the global state of an uninterrupted run of the same config and seed."""

from __future__ import annotations

import torch
from cluster import (
    FEDTGP_CLASSES,
    FEDTGP_CONFIG,
    FEDTGP_DIM,
    FEDTGP_ROUNDS,
    Cluster,
    ScriptedClient,
    report_all,
    sigkill,
    upload_all,
)

from fedloom.ops.processes import LocalProcess

ROUNDS, CLASSES, DIM, CONFIG = FEDTGP_ROUNDS, FEDTGP_CLASSES, FEDTGP_DIM, FEDTGP_CONFIG


def test_a_killed_aggregator_resumes_the_round_and_ends_as_an_uninterrupted_run(cluster: Cluster) -> None:
    aggregator = cluster.start_aggregator()
    clients = [cluster.enrol() for _ in range(3)]
    reference = cluster.create(CONFIG)
    for round_ in range(ROUNDS):
        upload_all(cluster, clients, reference, round_, (CLASSES, DIM))
    assert cluster.wait_done(reference)["status"] == "finished"

    fid = cluster.create(CONFIG)
    upload_all(cluster, clients, fid, 0, (CLASSES, DIM))
    aggregator = kill_while_collecting(cluster, aggregator, clients, fid)
    report_all(cluster, clients, fid, 1)
    aggregator = kill_while_evaluating(cluster, aggregator, clients, fid)

    state = cluster.wait_done(fid)
    assert state["status"] == "finished", state
    assert [r["uploads"] for r in state["rounds"]] == [3, 3, 3]  # type: ignore[attr-defined]
    assert [r["round"] for r in state["rounds"]] == [0, 1, 2]  # type: ignore[attr-defined]
    served, uninterrupted = cluster.package(fid, ROUNDS), cluster.package(reference, ROUNDS)
    assert served.tensors.keys() == uninterrupted.tensors.keys() == {"classes", "prototypes"}
    assert all(torch.equal(served.tensors[k], uninterrupted.tensors[k]) for k in served.tensors)
    assert served.values == uninterrupted.values
    assert aggregator.process.poll() is None


def kill_while_collecting(
    cluster: Cluster, aggregator: LocalProcess, clients: list[ScriptedClient], fid: str
) -> LocalProcess:
    """Round 1: two uploads accepted, SIGKILL, start again; the second client repeats, the third uploads."""
    cluster.wait_phase(fid, 1, ("collecting",))
    for client in clients[:2]:
        assert client.upload(fid, 1, CLASSES, DIM).json() == {"accepted": True, "duplicate": False}
    sigkill(aggregator)
    aggregator = cluster.start_aggregator()
    assert clients[1].upload(fid, 1, CLASSES, DIM).json() == {"accepted": True, "duplicate": True}
    assert clients[2].upload(fid, 1, CLASSES, DIM).json() == {"accepted": True, "duplicate": False}
    cluster.wait_phase(fid, 1, ("published",))
    assert f"federation {fid}: resuming round 1 (phase collecting)" in aggregator.tail(200)
    return aggregator


def kill_while_evaluating(
    cluster: Cluster, aggregator: LocalProcess, clients: list[ScriptedClient], fid: str
) -> LocalProcess:
    """Round 2: every upload in, the package published, SIGKILL before the metrics; start again; report."""
    cluster.wait_phase(fid, 2, ("collecting",))
    for client in clients:
        assert client.upload(fid, 2, CLASSES, DIM).json()["duplicate"] is False
    cluster.wait_phase(fid, 2, ("published",))
    sigkill(aggregator)
    aggregator = cluster.start_aggregator()
    report_all(cluster, clients, fid, 2)
    cluster.wait_done(fid)
    assert f"federation {fid}: resuming round 2 (phase published)" in aggregator.tail(200)
    return aggregator
