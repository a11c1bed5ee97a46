"""A federation of real processes for the end-to-end tests: Redis, S3, the generator, the aggregator and
three client agents of one model group, enrolled one at a time (client ids equal partition indices)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

import servers
from fedloom.ops.processes import ProcessGroup, free_port

ADMIN = "e2e-admin-token-0123456789abcdef"
CLIENTS, ROUNDS, SAMPLES, SEED = 3, 3, 600, 0


@contextmanager
def federation_of(root: Path, models: str) -> Iterator[httpx.Client]:
    """Redis, S3, generator, aggregator and three enrolled agents (`models`:INDEX); yields an admin client."""
    redis_proc, redis_url = servers.start_redis()
    s3_proc, s3_endpoint = servers.start_s3()
    env = {
        "FEDLOOM_REDIS_URL": redis_url,
        "FEDLOOM_S3_ENDPOINT": s3_endpoint,
        "FEDLOOM_S3_ACCESS_KEY": "testing",
        "FEDLOOM_S3_SECRET_KEY": "testing",
        "FEDLOOM_S3_BUCKET": "fedloom-e2e",
        "FEDLOOM_ADMIN_TOKEN": ADMIN,
        "OMP_NUM_THREADS": "1",
        "FEDLOOM_PRIVACY_NOISE": "seeded",  # private runs repeat the simulation's noise exactly
    }
    group = ProcessGroup(root / "logs")
    try:
        gen_port, agg_port = free_port(), free_port()
        generator = group.start(
            "generator", ["generator", "serve", "--port", str(gen_port)], {**env, "FEDLOOM_GENERATOR": "tiny"}
        )
        group.wait_ready(generator, f"http://127.0.0.1:{gen_port}/readyz")
        aggregator = group.start(
            "aggregator",
            ["aggregator", "--port", str(agg_port)],
            {**env, "FEDLOOM_GENERATOR_URL": f"http://127.0.0.1:{gen_port}"},
        )
        url = f"http://127.0.0.1:{agg_port}"
        group.wait_ready(aggregator, f"{url}/readyz")
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60) as admin:
            for index in range(CLIENTS):
                enrol_agent(group, admin, url, index, root, env, models)
            yield admin
    finally:
        group.stop()
        servers.stop(redis_proc)
        servers.stop(s3_proc)


def enrol_agent(
    group: ProcessGroup, admin: httpx.Client, url: str, index: int, root: Path, env: dict[str, str], models: str
) -> None:
    token = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 300}).json()["token"]
    data = f"synthetic,clients={CLIENTS},index={index},samples={SAMPLES},seed={SEED}"
    args = ["agent", "--server", url, "--enrollment-token", token, "--data", data, "--model", f"{models}:{index}"]
    args += ["--state-dir", str(root / f"agent-{index}"), "--poll-wait", "2"]
    agent = group.start(f"agent-{index}", args, env)
    deadline = time.monotonic() + 120
    while len(admin.get("/v1/clients").json()) <= index:
        assert agent.process.poll() is None, agent.tail()
        assert time.monotonic() < deadline, agent.tail()
        time.sleep(0.2)


def run_services(
    admin: httpx.Client, algorithm: str, options: dict[str, object], training: dict[str, object] | None = None
) -> dict[str, object]:
    """A federation of `algorithm` (with `training` settings, if given) to its end; returns its final state."""
    config: dict[str, object] = {
        "algorithm": algorithm,
        "options": options,
        "num_classes": 10,
        "feature_dim": 512,
        "input_shape": [1, 28, 28],
        "rounds": ROUNDS,
        "seed": SEED,
        "generator": "remote",
        "round_deadline_seconds": 300,
    }
    if training is not None:
        config["training"] = training
    fid = admin.post("/v1/federations", json=config).json()["federation_id"]
    started = admin.post(f"/v1/federations/{fid}/start")
    assert started.status_code == 200, started.text
    deadline = time.monotonic() + 600
    while (state := admin.get(f"/v1/federations/{fid}").json())["status"] == "running":
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
    assert state["status"] == "finished", state
    assert [r["round"] for r in state["rounds"]] == list(range(ROUNDS))
    return state  # type: ignore[no-any-return]
