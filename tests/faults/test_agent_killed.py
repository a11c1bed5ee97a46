"""A client agent SIGKILLed while it trains: the round closes at its deadline with the quorum of the others,
and the agent, started again on its state folder, reports for that round and uploads in the next one."""

from __future__ import annotations

from pathlib import Path

from cluster import Cluster, sigkill, wait_until

from fedloom.ops.processes import LocalProcess
from fedloom_aggregator.transport import client_queue

AGENTS = 3
CONFIG = {
    "algorithm": "fedproto",
    "num_classes": 10,
    "feature_dim": 64,
    "input_shape": [1, 28, 28],
    "rounds": 2,
    "quorum_fraction": 0.6,  # 2 of 3
    "round_deadline_seconds": 20,
}


def start_agent(cluster: Cluster, index: int, enrollment_token: str | None = None) -> LocalProcess:
    args = [
        "agent",
        "--server",
        cluster.aggregator_url,
        "--data",
        f"synthetic,clients={AGENTS},index={index},samples=600",
    ]
    args += ["--model", f"hcnn8:{index}", "--state-dir", str(cluster.root / f"agent-{index}"), "--poll-wait", "1"]
    args += ["--backoff-base", "0.2"] + (["--enrollment-token", enrollment_token] if enrollment_token else [])
    return cluster.start(f"agent-{index}", args, {})


def enrol_agent(cluster: Cluster, index: int) -> LocalProcess:
    token = cluster.admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 300}).json()["token"]
    agent = start_agent(cluster, index, token)
    wait_until(lambda: len(cluster.admin.get("/v1/clients").json()) > index, 120, f"agent {index} to enrol")
    return agent


def test_a_killed_agent_misses_the_round_by_quorum_and_rejoins_the_next(cluster: Cluster) -> None:
    cluster.start_aggregator()
    agents = [enrol_agent(cluster, index) for index in range(AGENTS)]  # one at a time: client id = data index
    victim = AGENTS - 1
    fid = cluster.create(CONFIG)

    cluster.wait_phase(fid, 0, ("collecting",))
    wait_until(lambda: cluster.book.marked(fid, 0, "tasks_sent") and cluster.store.llen(client_queue(victim)) == 0)
    sigkill(agents[victim])  # it took its task and is training
    assert victim not in cluster.book.uploads(fid, 0)
    restarted = start_agent(cluster, victim)  # no token: it has its credentials in its state folder

    state = cluster.wait_done(fid, seconds=150)
    assert state["status"] == "finished", state
    rounds = state["rounds"]
    assert [r["uploads"] for r in rounds] == [2, 3]  # type: ignore[attr-defined]
    assert rounds[0]["clients"] == rounds[1]["clients"] == [0, 1, 2]  # type: ignore[index]
    log = Path(restarted.log_path).read_text()
    assert f"federation={fid} round=0 client={victim}: test accuracy" in log
    assert f"federation={fid} round=1 client={victim}: update of" in log
    assert restarted.process.poll() is None
