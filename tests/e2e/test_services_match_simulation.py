"""The services are the simulation minus the transport: real processes, real Redis, real S3, same result.

Starts a redis-server and a moto S3 server on loopback, the generator and aggregator services and three
client agents as separate processes, runs 3 rounds of FedTGP, FedKTL and FML on synthetic data, and
compares the final global state (FedTGP's prototypes, FedKTL's latent centroids, FML's shared model,
whose large tensors travel as S3 objects the packages reference) with `fedloom simulate` on the same
config and seed. Both sides run torch on one thread: float sums reduce in a thread-dependent
order, and FedKTL's Adam-trained alignment turns those 1e-7 differences into visible ones within rounds.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import torch
from e2e_cluster import CLIENTS, ROUNDS, SAMPLES, SEED, federation_of, run_services

from fedloom.ops.packages import download_package
from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.wire import GlobalPayload

OPTIONS: dict[str, dict[str, object]] = {"fedtgp": {"server_epochs": 20}, "fedktl": {"server_epochs": 20}, "fml": {}}


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with federation_of(tmp_path_factory.mktemp("e2e"), "hcnn8") as admin:
        yield admin


def final_package(admin: httpx.Client, algorithm: str) -> GlobalPayload:
    state = run_services(admin, algorithm, OPTIONS[algorithm])
    if algorithm == "fml":  # the shared model's weights went through S3 as referenced objects
        assert all(r["upload_bytes"] > CLIENTS * 1024 * 1024 for r in state["rounds"])  # type: ignore[attr-defined]
    package = download_package(admin, str(state["federation_id"]), ROUNDS)
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
    served = final_package(federation, algorithm)
    simulated = run_in_process(algorithm)
    assert served.round == simulated.round == ROUNDS
    keys = state_keys if state_keys is not None else sorted(simulated.tensors)
    assert keys and set(keys) <= set(served.tensors)
    for state_key in keys:
        assert served.tensors[state_key].shape == simulated.tensors[state_key].shape
        torch.testing.assert_close(served.tensors[state_key], simulated.tensors[state_key], atol=1e-5, rtol=0)
