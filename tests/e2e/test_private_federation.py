"""Differentially private uploads through the services: three agents as processes, Redis and S3, 3 rounds of
FedTGP with `privacy: {epsilon: 4, clip: 5}`. The accuracies equal the simulation's (the noise comes from
each client's seeded generator on both sides), every round reports the epsilon each client has spent, the
agents' checkpoints hold only noisy uploads; a synthetic dataset made from a private FedKTL federation on
the aggregator carries its epsilon. FML with central DP (clipped updates, seeded noise at the
server) equals its simulation too, and an algorithm with neither mechanism is refused with a 422."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_cluster import CLIENTS, ROUNDS, SAMPLES, SEED, federation_of, run_services

from fedloom.errors import ConfigError
from fedloom.federation import RoundMetrics
from fedloom.ops.client import OperatorClient, OperatorSettings
from fedloom.privacy import PrivacyConfig, epsilon_spent
from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.synthesis import SyntheticOptions, source_from_federation, write_synthetic_dataset
from fedloom.wire import ClientUpdate, decode

PRIVACY = {"epsilon": 4.0, "clip": 5.0}
OPTIONS = {"server_epochs": 20}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    root = tmp_path_factory.mktemp("e2e-dp")
    with federation_of(root, "hcnn8") as admin:
        yield admin, root


def simulated(algorithm: str, options: dict[str, Any], privacy: dict[str, float]) -> list[RoundMetrics]:
    cfg = SimulationConfig(
        algorithm=algorithm,
        options=options,
        dataset="synthetic",
        dataset_options={"samples": SAMPLES},
        clients=CLIENTS,
        rounds=ROUNDS,
        models="hcnn8",
        seed=SEED,
        device="cpu",
        threads=1,
        privacy=privacy,
    )
    return run_simulation(cfg, progress=False).history


def test_private_federation_equals_the_simulation_and_reports_epsilon(cluster: tuple[httpx.Client, Path]) -> None:
    admin, root = cluster
    state = run_services(admin, "fedtgp", OPTIONS, {"privacy": PRIVACY})
    history = simulated("fedtgp", OPTIONS, PRIVACY)
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


CENTRAL = {"noise_multiplier": 0.001, "clip": 2.0}


def test_central_dp_federation_equals_the_simulation_and_reports_epsilon(cluster: tuple[httpx.Client, Path]) -> None:
    admin, _ = cluster
    state = run_services(admin, "fml", {}, {"privacy": CENTRAL})
    history = simulated("fml", {}, CENTRAL)
    rounds = state["rounds"]
    assert [r["accuracy"] for r in rounds] == pytest.approx([m.accuracy for m in history], abs=1e-9)  # type: ignore[attr-defined]
    assert rounds[-1]["epsilon_max"] == pytest.approx(epsilon_spent(0.001, ROUNDS, 1e-5))  # type: ignore[index]


def test_algorithms_without_a_private_mechanism_are_refused(cluster: tuple[httpx.Client, Path]) -> None:
    admin, _ = cluster
    config = {"algorithm": "fedkd", "num_classes": 10, "rounds": 3, "training": {"privacy": PRIVACY}}
    refused = admin.post("/v1/federations", json=config)
    assert refused.status_code == 422, refused.text
    assert "fedkd cannot run with privacy settings" in refused.text
    bad = {"algorithm": "fedtgp", "num_classes": 10, "rounds": 3, "training": {"privacy": {"clip": 1.0}}}
    assert admin.post("/v1/federations", json=bad).status_code == 422


def test_a_synthetic_dataset_from_a_private_fedktl_federation_carries_its_epsilon(
    cluster: tuple[httpx.Client, Path],
) -> None:
    admin, root = cluster
    state = run_services(admin, "fedktl", {"server_epochs": 5}, {"privacy": PRIVACY})
    token = admin.headers["Authorization"].removeprefix("Bearer ")
    client = OperatorClient(OperatorSettings(url=str(admin.base_url), admin_token=token))
    try:
        source = source_from_federation(client, str(state["federation_id"]))
    finally:
        client.close()
    with pytest.raises(ConfigError, match="pass --generator"):  # it used the service: name its network
        write_synthetic_dataset(source, SyntheticOptions(), root / "synthetic", progress=False)
    options = SyntheticOptions(per_class=3, generator="tiny")  # the network the generator service hosts here
    info = write_synthetic_dataset(source, options, root / "synthetic", progress=False)
    assert info["images"] == 30 and source.rounds == ROUNDS and source.image_shape == (1, 28, 28)
    assert info["privacy"]["epsilon_spent_max"] == pytest.approx(state["rounds"][-1]["epsilon_max"])  # type: ignore[index]
    assert "epsilon = 4" in (root / "synthetic" / "README.md").read_text()
