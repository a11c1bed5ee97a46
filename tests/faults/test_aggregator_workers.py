"""`FEDLOOM_WORKERS=N`: N aggregator API processes behind one address, a SO_REUSEPORT socket each (api_workers),
share Redis: the federation runs to the end with one round loop, whichever worker answers each request;
keep-alive connections opened as soon as the port answers spread over the workers; a killed worker is
replaced, and when it held the lease the other takes the loop over; SIGTERM stops them all, and so does a
SIGKILLed supervisor; a taken port fails at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from cluster import Cluster, report_all, upload_all, wait_until

from fedloom_aggregator.leases import lease_key

ROUNDS, CLASSES, DIM = 2, 4, 16
CONFIG = {
    "algorithm": "fedproto",
    "num_classes": CLASSES,
    "feature_dim": DIM,
    "input_shape": [1, 8, 8],
    "rounds": ROUNDS,
    "round_deadline_seconds": 120,
}


def worker_pids(pid: int) -> list[int]:
    """The API workers of the supervisor `pid`: its children started by multiprocessing's spawn."""
    done = subprocess.run(["pgrep", "-P", str(pid), "-f", "spawn_main"], capture_output=True, text=True)
    return [int(p) for p in done.stdout.split()]


def established_to(port: int) -> set[int]:
    """Socket inodes of the server side of established TCP connections on `port` (from /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            inodes.add(int(fields[9]))
    return inodes


def sockets_of(pid: int) -> set[int]:
    """Inodes of the sockets process `pid` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except FileNotFoundError:  # closed since the listing
            continue
        if link.startswith("socket:["):
            inodes.add(int(link[8:-1]))
    return inodes


def test_two_api_workers_run_one_loop_per_federation(cluster: Cluster) -> None:
    supervisor = cluster.start_aggregator(env={"FEDLOOM_WORKERS": "2", "FEDLOOM_LEASE_SECONDS": "2"})
    clients = [cluster.enrol() for _ in range(3)]
    fid = cluster.create(CONFIG)
    for round_ in range(ROUNDS):
        upload_all(cluster, clients, fid, round_, (CLASSES, DIM))
    state = cluster.wait_done(fid)
    assert state["status"] == "finished" and [r["uploads"] for r in state["rounds"]] == [3, 3]  # type: ignore[attr-defined]
    assert len([p for p in worker_pids(supervisor.process.pid) if p]) >= 2
    assert supervisor.tail(400).count(f"federation {fid}: replica") == 1


def test_connections_opened_at_once_spread_over_the_workers(cluster: Cluster) -> None:
    supervisor = cluster.start_aggregator(env={"FEDLOOM_WORKERS": "2"})
    port = int(cluster.aggregator_url.rsplit(":", 1)[1])
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        for conn in connections:  # one keep-alive request each, so every connection is accepted and served
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        served = established_to(port)
        held = [len(sockets_of(pid) & served) for pid in worker_pids(supervisor.process.pid)]
        assert sum(held) == 32 and len(held) == 2 and min(held) >= 4, held  # uvicorn's shared socket: often 32 / 0
    finally:
        for conn in connections:
            conn.close()


def test_a_killed_worker_is_replaced_and_sigterm_stops_them_all(cluster: Cluster) -> None:
    supervisor = cluster.start_aggregator(env={"FEDLOOM_WORKERS": "2"})
    first = worker_pids(supervisor.process.pid)
    os.kill(first[0], signal.SIGKILL)
    wait_until(lambda: len(set(worker_pids(supervisor.process.pid)) - set(first)) == 1, what="a new worker")
    wait_until(lambda: cluster.admin.get("/readyz").status_code == 200, what="the group answering")
    workers = worker_pids(supervisor.process.pid)
    supervisor.process.send_signal(signal.SIGTERM)
    assert supervisor.process.wait(30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert "starting another" in supervisor.tail(200)


def test_workers_stop_when_the_supervisor_is_killed(cluster: Cluster) -> None:
    supervisor = cluster.start_aggregator(env={"FEDLOOM_WORKERS": "2"})
    workers = worker_pids(supervisor.process.pid)
    supervisor.process.send_signal(signal.SIGKILL)
    supervisor.process.wait(10)
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 30, "the orphaned workers to stop")


def test_the_lease_holding_worker_killed_mid_round(cluster: Cluster) -> None:
    """The other worker takes the loop over, the supervisor starts a replacement, every upload counts once."""
    supervisor = cluster.start_aggregator(env={"FEDLOOM_WORKERS": "2", "FEDLOOM_LEASE_SECONDS": "2"})
    clients = [cluster.enrol() for _ in range(3)]
    fid = cluster.create(CONFIG)
    upload_all(cluster, clients, fid, 0, (CLASSES, DIM))
    cluster.wait_phase(fid, 1, ("collecting",))
    holder = lease_pid(cluster, fid)
    assert holder in worker_pids(supervisor.process.pid)
    assert clients[0].upload(fid, 1, CLASSES, DIM).json() == {"accepted": True, "duplicate": False}
    os.kill(holder, signal.SIGKILL)
    wait_until(lambda: lease_pid(cluster, fid) not in (None, holder), 30, "another worker to take the lease")
    assert clients[0].upload(fid, 1, CLASSES, DIM).json() == {"accepted": True, "duplicate": True}
    for client in clients[1:]:
        assert client.upload(fid, 1, CLASSES, DIM).json()["accepted"] is True
    report_all(cluster, clients, fid, 1)
    state = cluster.wait_done(fid)
    assert state["status"] == "finished" and [r["uploads"] for r in state["rounds"]] == [3, 3]  # type: ignore[attr-defined]
    wait_until(lambda: len(worker_pids(supervisor.process.pid)) == 2, 30, "a worker in place of the killed one")


def lease_pid(cluster: Cluster, fid: str) -> int | None:
    """The pid in the federation's lease owner (host-pid-random), None while no one holds it."""
    owner = cluster.store.get(lease_key(fid))
    return int(owner.decode().rsplit("-", 2)[1]) if owner else None


def test_a_taken_port_fails_at_once_with_the_address(cluster: Cluster) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "fedloom.cli", "aggregator", "--port", str(port)],
            env={**os.environ, **cluster.env, "FEDLOOM_WORKERS": "2"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
