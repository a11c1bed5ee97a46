"""`FEDLOOM_WORKERS=2`: two aggregator API processes behind one address (uvicorn workers) share Redis; the
federation runs to the end with one round loop, whichever worker answers each request."""

from __future__ import annotations

import subprocess

from cluster import Cluster, upload_all

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
    done = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in done.stdout.split()]


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
