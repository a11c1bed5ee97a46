"""Personalised FL through the services equals the simulation: three cnn4 agents as processes, Redis and S3,
3 rounds, the final global weights (which travel through S3 by digest) within 1e-5 of `fedloom simulate`
on the same config and seed, and the same accuracies, a client's second model (Ditto's global) included."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import torch
from e2e_cluster import CLIENTS, ROUNDS, SAMPLES, SEED, federation_of, run_services

from fedloom.algorithms import algorithm_names
from fedloom.ops.packages import download_package
from fedloom.simulation import SimulationConfig, run_simulation

CASES = {
    "fedala": {},
    "feddbe": {},
    "feddbe-mr": {"kl_weight": 50.0, "momentum": 1.0},  # round 0 is the initialisation: means, not weights
    "fedavg": {},
    "ditto": {},
    "fedcp": {},
    "gpfl": {},
}
ALGORITHMS = [case for case in CASES if case.split("-")[0] in algorithm_names()]


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with federation_of(tmp_path_factory.mktemp("e2e-pfl"), "cnn4") as admin:
        yield admin


def simulate(case: str) -> tuple[dict[str, torch.Tensor], list[float], list[dict[str, float]]]:
    cfg = SimulationConfig(
        algorithm=case.split("-")[0],
        options=CASES[case],
        dataset="synthetic",
        dataset_options={"samples": SAMPLES},
        clients=CLIENTS,
        rounds=ROUNDS,
        models="cnn4",
        seed=SEED,
        device="cpu",
        threads=1,
    )
    outcome = run_simulation(cfg, progress=False)
    history = outcome.history
    return outcome.final_payload.tensors, [m.accuracy for m in history], [m.other_accuracy for m in history]


@pytest.mark.parametrize("case", ALGORITHMS)
def test_services_equal_the_simulation(federation: httpx.Client, case: str) -> None:
    state = run_services(federation, case.split("-")[0], CASES[case])
    package = download_package(federation, str(state["federation_id"]), ROUNDS)
    assert package is not None
    tensors, accuracies, others = simulate(case)
    assert set(package.tensors) == set(tensors)
    for name, value in tensors.items():
        torch.testing.assert_close(package.tensors[name], value, atol=1e-5, rtol=0, msg=name)
    rounds = state["rounds"]
    assert [r["accuracy"] for r in rounds] == pytest.approx(accuracies, abs=1e-9)  # type: ignore[attr-defined]
    assert [r["other_accuracy"] for r in rounds] == [pytest.approx(o, abs=1e-9) for o in others]  # type: ignore[attr-defined]
