"""Two aggregator replicas share Redis and S3: either serves any request, exactly one runs a federation's
round loop (the holder of its lease), and when the holder is SIGKILLed mid-round the other takes the loop over
within a few seconds and ends exactly as an uninterrupted run, with no upload lost or counted twice."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
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
    wait_until,
)

from fedloom.ops.processes import LocalProcess, free_port
from fedloom.wire.control import Task
from fedloom_aggregator.leases import lease_key
from fedloom_aggregator.transport import client_queue

LEASE = "3"
ROUNDS, CLASSES, DIM, CONFIG = FEDTGP_ROUNDS, FEDTGP_CLASSES, FEDTGP_DIM, FEDTGP_CONFIG


def holder_pid(cluster: Cluster, fid: str) -> int | None:
    """The pid in the lease's owner name (host-pid-random), None while no one holds it."""
    owner = cluster.store.get(lease_key(fid))
    return int(owner.decode().rsplit("-", 2)[1]) if owner else None


def queued_tasks(cluster: Cluster, client_id: int) -> list[Task]:
    """Take every task waiting in the client's queue (scripted clients never poll)."""
    tasks = []
    while (raw := cluster.store.blpop(client_queue(client_id), 0.05)) is not None:
        tasks.append(Task.model_validate_json(raw))
    return tasks


def through(client: ScriptedClient, url: str) -> ScriptedClient:
    """The same client talking to another replica."""
    return ScriptedClient(client.client_id, httpx.Client(base_url=url, headers=dict(client.http.headers)))


def test_the_other_replica_takes_a_killed_holders_loop_over(cluster: Cluster) -> None:
    other_url = f"http://127.0.0.1:{free_port()}"
    replicas = {
        url: cluster.start_aggregator(url, {"FEDLOOM_LEASE_SECONDS": LEASE})
        for url in (cluster.aggregator_url, other_url)
    }
    clients = [cluster.enrol() for _ in range(3)]
    reference = cluster.create(CONFIG)
    for round_ in range(ROUNDS):
        upload_all(cluster, clients, reference, round_, (CLASSES, DIM))
    assert cluster.wait_done(reference)["status"] == "finished"

    fid = cluster.create(CONFIG)
    upload_all(cluster, clients, fid, 0, (CLASSES, DIM))
    cluster.wait_phase(fid, 1, ("collecting",))
    holder_url = next(url for url, p in replicas.items() if p.process.pid == holder_pid(cluster, fid))
    survivor_url = other_url if holder_url == cluster.aggregator_url else cluster.aggregator_url
    survivors = [through(c, survivor_url) for c in clients]
    for client in survivors[:2]:  # the replica that does not hold the lease accepts uploads too
        assert client.upload(fid, 1, CLASSES, DIM).json() == {"accepted": True, "duplicate": False}

    killed_at = time.monotonic()
    sigkill(replicas[holder_url])
    cluster.admin.base_url = httpx.URL(survivor_url)  # the operator, too, talks to the replica still up
    survivor_pid = replicas[survivor_url].process.pid
    wait_until(lambda: holder_pid(cluster, fid) == survivor_pid, 30, "the survivor to take the lease")
    takeover = time.monotonic() - killed_at
    assert takeover < 3 * float(LEASE) + 2, takeover
    assert survivors[1].upload(fid, 1, CLASSES, DIM).json() == {"accepted": True, "duplicate": True}
    assert survivors[2].upload(fid, 1, CLASSES, DIM).json() == {"accepted": True, "duplicate": False}
    report_all(cluster, survivors, fid, 1)
    upload_all(cluster, survivors, fid, 2, (CLASSES, DIM))

    state = cluster.wait_done(fid)
    assert state["status"] == "finished", state
    assert [r["uploads"] for r in state["rounds"]] == [3, 3, 3]  # type: ignore[attr-defined]
    served, uninterrupted = cluster.package(fid, ROUNDS), cluster.package(reference, ROUNDS)
    assert all(torch.equal(served.tensors[k], uninterrupted.tensors[k]) for k in uninterrupted.tensors)
    assert f"federation {fid}: resuming round 1" in replicas[survivor_url].tail(400)


def test_replicas_racing_for_a_free_lease_run_one_loop(cluster: Cluster) -> None:
    """A federation left running by a killed aggregator; four replicas start at once; one loop runs it."""
    first = cluster.start_aggregator(env={"FEDLOOM_LEASE_SECONDS": LEASE})
    clients = [cluster.enrol() for _ in range(2)]
    fid = cluster.create(CONFIG)
    upload_all(cluster, clients, fid, 0, (CLASSES, DIM))
    cluster.wait_phase(fid, 1, ("collecting",))
    sigkill(first)
    time.sleep(0.5)  # what the killed process had written to Redis's socket still reaches Redis
    for client in clients:  # tasks so far, from the killed loop
        queued_tasks(cluster, client.client_id)

    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(4)]
    with ThreadPoolExecutor(len(urls)) as pool:
        replicas: list[LocalProcess] = list(
            pool.map(lambda url: cluster.start_aggregator(url, {"FEDLOOM_LEASE_SECONDS": LEASE}), urls)
        )
    cluster.admin.base_url = httpx.URL(urls[0])
    wait_until(lambda: holder_pid(cluster, fid) is not None, 30, "a replica to take the lease")
    time.sleep(3 * float(LEASE))  # every replica's watch has looked at least twice
    claims = [r for r in replicas if f"federation {fid}: replica" in r.tail(400)]
    assert len(claims) == 1 and claims[0].process.pid == holder_pid(cluster, fid)
    for round_ in (1, 2):
        survivors = [through(c, urls[round_]) for c in clients]
        upload_all(cluster, survivors, fid, round_, (CLASSES, DIM))
        if round_ == 1:
            wait_until(lambda: cluster.book.phase(fid, 2) == "collecting", 60, "round 2")
            for client in clients:  # one loop sent each client's tasks: one per round
                rounds = sorted(task.round for task in queued_tasks(cluster, client.client_id))
                # round 1's again unless the killed loop had recorded sending them (a kill lands anywhere)
                assert rounds in ([1, 2], [2]), rounds
    assert cluster.wait_done(fid)["status"] == "finished"
