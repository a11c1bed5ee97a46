"""Differentially private uploads through the services: three agents as processes, Redis and S3, 3 rounds of
FedTGP with `privacy: {epsilon: 4, clip: 5}`. The accuracies equal the simulation's (the noise comes from
each client's seeded generator on both sides), every round reports the epsilon each client has spent, the
agents' checkpoints hold only noisy uploads, and a weight-sharing algorithm is refused with a 422."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_cluster import CLIENTS, ROUNDS, SAMPLES, SEED, federation_of, run_services

from fedloom.privacy import PrivacyConfig, epsilon_spent
from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.wire import ClientUpdate, decode

PRIVACY = {"epsilon": 4.0, "clip": 5.0}
OPTIONS = {"server_epochs": 20}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    root = tmp_path_factory.mktemp("e2e-dp")
    with federation_of(root, "hcnn8") as admin:
        yield admin, root


def test_private_federation_equals_the_simulation_and_reports_epsilon(cluster: tuple[httpx.Client, Path]) -> None:
    admin, root = cluster
    state = run_services(admin, "fedtgp", OPTIONS, {"privacy": PRIVACY})
    cfg = SimulationConfig(
        algorithm="fedtgp",
        options=OPTIONS,
        dataset="synthetic",
        dataset_options={"samples": SAMPLES},
        clients=CLIENTS,
        rounds=ROUNDS,
        models="hcnn8",
        seed=SEED,
        device="cpu",
        threads=1,
        privacy=PRIVACY,
    )
    history = run_simulation(cfg, progress=False).history
    rounds = state["rounds"]
    assert [r["accuracy"] for r in rounds] == pytest.approx([m.accuracy for m in history], abs=1e-9)  # type: ignore[attr-defined]
    noise = PrivacyConfig.model_validate(PRIVACY).planned(ROUNDS).noise_multiplier or 0.0
    for index, summary in enumerate(rounds):  # type: ignore[attr-defined]
        expected = epsilon_spent(noise, index + 1, 1e-5)
        assert summary["epsilon_by_client"] == {str(c): pytest.approx(expected) for c in state["clients"]}  # type: ignore[attr-defined]
        assert summary["epsilon_max"] == pytest.approx(expected)
    assert rounds[-1]["epsilon_max"] == pytest.approx(4.0, rel=1e-3)  # type: ignore[index]
    assert state["config"]["training"]["privacy"]["noise_multiplier"] == pytest.approx(noise)  # type: ignore[index]
    for update_file in root.glob("agent-*/*.update"):  # results still in an outbox, if any
        update = decode(update_file.read_bytes(), ClientUpdate)
        assert "loss" not in update.values and "epsilon" in update.values


def test_weight_sharing_with_privacy_is_refused(cluster: tuple[httpx.Client, Path]) -> None:
    admin, _ = cluster
    config = {"algorithm": "fml", "num_classes": 10, "rounds": 3, "training": {"privacy": PRIVACY}}
    refused = admin.post("/v1/federations", json=config)
    assert refused.status_code == 422, refused.text
    assert "fml has no differentially private upload" in refused.text
    bad = {"algorithm": "fedtgp", "num_classes": 10, "rounds": 3, "training": {"privacy": {"clip": 1.0}}}
    assert admin.post("/v1/federations", json=bad).status_code == 422
