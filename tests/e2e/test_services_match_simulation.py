"""The services are the simulation minus the transport: real processes, real Redis, real S3, same result.

Starts a redis-server and a moto S3 server on loopback, the generator and aggregator services and three
client agents as separate processes, runs 3 rounds of FedTGP, FedKTL and FML on synthetic data, and
compares the final global state (FedTGP's prototypes, FedKTL's latent centroids, FML's shared model,
whose large tensors travel as S3 objects the packages reference) with `fedloom simulate` on the same
config and seed. Both sides run torch on one thread: float sums reduce in a thread-dependent
order, and FedKTL's Adam-trained alignment turns those 1e-7 differences into visible ones within rounds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import torch

import servers
from fedloom.ops.packages import download_package
from fedloom.ops.processes import ProcessGroup, free_port
from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.wire import GlobalPayload

ADMIN = "e2e-admin-token-0123456789abcdef"
CLIENTS, ROUNDS, SAMPLES, SEED = 3, 3, 600, 0
OPTIONS: dict[str, dict[str, int]] = {"fedtgp": {"server_epochs": 20}, "fedktl": {"server_epochs": 20}, "fml": {}}


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """Redis, S3, generator, aggregator and three enrolled agents; yields an admin HTTP client."""
    root = tmp_path_factory.mktemp("e2e")
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
            for index in range(CLIENTS):  # one at a time, so client ids equal partition indices
                enrol_agent(group, admin, url, index, root, env)
            yield admin
    finally:
        group.stop()
        servers.stop(redis_proc)
        servers.stop(s3_proc)


def enrol_agent(
    group: ProcessGroup, admin: httpx.Client, url: str, index: int, root: Path, env: dict[str, str]
) -> None:
    token = admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 300}).json()["token"]
    data = f"synthetic,clients={CLIENTS},index={index},samples={SAMPLES},seed={SEED}"
    args = [
        "agent",
        "--server",
        url,
        "--enrollment-token",
        token,
        "--data",
        data,
        "--model",
        f"hcnn8:{index}",
        "--state-dir",
        str(root / f"agent-{index}"),
        "--poll-wait",
        "2",
    ]
    agent = group.start(f"agent-{index}", args, env)
    deadline = time.monotonic() + 120
    while len(admin.get("/v1/clients").json()) <= index:
        assert agent.process.poll() is None, agent.tail()
        assert time.monotonic() < deadline, agent.tail()
        time.sleep(0.2)


def run_services(admin: httpx.Client, algorithm: str) -> GlobalPayload:
    config = {
        "algorithm": algorithm,
        "options": OPTIONS[algorithm],
        "num_classes": 10,
        "feature_dim": 512,
        "input_shape": [1, 28, 28],
        "rounds": ROUNDS,
        "seed": SEED,
        "generator": "remote",
        "round_deadline_seconds": 300,
    }
    fid = admin.post("/v1/federations", json=config).json()["federation_id"]
    assert admin.post(f"/v1/federations/{fid}/start").status_code == 200
    deadline = time.monotonic() + 600
    while (state := admin.get(f"/v1/federations/{fid}").json())["status"] == "running":
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
    assert state["status"] == "finished", state
    assert [r["round"] for r in state["rounds"]] == list(range(ROUNDS))
    if algorithm == "fml":  # the shared model's weights went through S3 as referenced objects
        assert all(r["upload_bytes"] > CLIENTS * 1024 * 1024 for r in state["rounds"])
    package = download_package(admin, fid, ROUNDS)
    assert package is not None
    return package


def run_in_process(algorithm: str) -> GlobalPayload:
    cfg = SimulationConfig(
        algorithm=algorithm,
        options=OPTIONS[algorithm],
        dataset="synthetic",
        dataset_options={"samples": SAMPLES},
        clients=CLIENTS,
        rounds=ROUNDS,
        models="hcnn8",
        seed=SEED,
        generator="tiny",
        device="cpu",
        threads=1,
    )
    return run_simulation(cfg, progress=False).final_payload


@pytest.mark.parametrize(
    ("algorithm", "state_keys"),
    [("fedtgp", ["prototypes"]), ("fedktl", ["latents"]), ("fml", None)],  # None: every tensor (FML's model)
)
def test_final_global_state_equals_the_simulation(
    federation: httpx.Client, algorithm: str, state_keys: list[str] | None
) -> None:
    served = run_services(federation, algorithm)
    simulated = run_in_process(algorithm)
    assert served.round == simulated.round == ROUNDS
    keys = state_keys if state_keys is not None else sorted(simulated.tensors)
    assert keys and set(keys) <= set(served.tensors)
    for state_key in keys:
        assert served.tensors[state_key].shape == simulated.tensors[state_key].shape
        torch.testing.assert_close(served.tensors[state_key], simulated.tensors[state_key], atol=1e-5, rtol=0)
