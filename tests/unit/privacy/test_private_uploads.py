"""What a client uploads when privacy is on: noisy means only (nothing of its exact prototypes, counts or
loss), the epsilon it has spent, and a refusal before any training once its budget is used up."""

import copy
from typing import Any

import pytest
import torch

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ClientContext, ServerEnv, TrainSettings
from fedloom.algorithms.prototypes import CLASSES, COUNTS, PROTOTYPES, check_feature_prototypes, class_means
from fedloom.algorithms.training import features_of
from fedloom.data.types import ClientData
from fedloom.errors import ConfigError, WireError
from fedloom.models import build_model
from fedloom.privacy import PrivacyBudgetExceeded, PrivacyConfig, epsilon_spent
from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.wire import ClientUpdate

SHAPE, C = (1, 28, 28), 10
PRIVATE = ["fedproto", "fedtgp", "fedktl", "fd", "fedgh"]


def context(privacy: PrivacyConfig | None) -> ClientContext:
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(200, *SHAPE, generator=gen), torch.arange(200) % 3
    data = ClientData(client_id=0, train_x=x, train_y=y, test_x=x[:20], test_y=y[:20])
    torch.manual_seed(0)
    settings = TrainSettings(batch_size=10, lr=0.05, privacy=privacy)
    return ClientContext(0, build_model("cnn4", SHAPE, C), data, C, settings, torch.Generator().manual_seed(0))


def fedtgp_round(privacy: PrivacyConfig | None) -> tuple[ClientContext, Any]:
    spec = get_algorithm("fedtgp")
    config = make_config(spec, {})
    server = spec.make_server(config)
    env = ServerEnv(C, 512, TrainSettings(), input_shape=SHAPE, reference_arch="cnn4")
    state = server.init(env)
    client, ctx = spec.make_client(config), context(privacy)
    client.join(ctx, server.bootstrap(state))
    return ctx, client.fit(ctx, server.broadcast(state))


def test_the_upload_is_the_noisy_mechanism_of_the_trained_models_features() -> None:
    ctx, exact = fedtgp_round(None)
    assert exact.num_samples == 200 and "loss" in exact.values
    nearly_noiseless = PrivacyConfig(noise_multiplier=1e-9, clip=1e6)
    ctx, update = fedtgp_round(nearly_noiseless)
    assert torch.allclose(update.tensors[PROTOTYPES], exact.tensors[PROTOTYPES], atol=1e-4)
    private = PrivacyConfig(epsilon=8.0, clip=5.0).planned(50)
    ctx, noisy = fedtgp_round(private)
    _, raw = class_means(features_of(ctx, ctx.data.train_x), ctx.data.train_y, C)
    assert noisy.tensors[CLASSES].tolist() == [0, 1, 2]
    assert not torch.allclose(noisy.tensors[PROTOTYPES], raw, atol=1e-2)  # no raw prototype leaves the client
    assert set(noisy.values) == {"epsilon"}  # no training loss
    kept = [t for t in ctx.state.values() if isinstance(t, torch.Tensor) and t.shape == raw.shape]
    assert not any(torch.allclose(t.cpu(), raw, atol=1e-2) for t in kept)  # nor is one stored (checkpoints)
    assert noisy.values["epsilon"] == pytest.approx(epsilon_spent(private.noise_multiplier or 0, 1, 1e-5))


def test_a_client_refuses_before_training_once_its_budget_is_spent() -> None:
    privacy = PrivacyConfig(epsilon=1.0, clip=1.0).planned(1)
    spec = get_algorithm("fedtgp")
    ctx, _ = fedtgp_round(privacy)
    model = copy.deepcopy(ctx.model)
    client = spec.make_client(make_config(spec, {}))
    server = spec.make_server(make_config(spec, {}))
    state = server.init(ServerEnv(C, 512, TrainSettings(), input_shape=SHAPE, reference_arch="cnn4"))
    with pytest.raises(PrivacyBudgetExceeded, match="upload 2 would spend epsilon"):
        client.fit(ctx, server.broadcast(state))
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), ctx.model.parameters(), strict=True))


def small_run(algorithm: str, privacy: dict[str, Any] | None) -> Any:
    cfg = SimulationConfig(
        algorithm=algorithm,
        dataset="synthetic",
        dataset_options={"samples": 300, "num_classes": 4},
        partition="iid",
        clients=3,
        rounds=2,
        models="cnn4",
        generator="tiny",
        privacy=privacy,
        threads=1,
    )
    return run_simulation(cfg, progress=False)


def test_local_training_uploads_nothing_and_spends_nothing() -> None:
    result = small_run("local", {"epsilon": 4.0, "clip": 2.0})
    assert result.summary["privacy"]["epsilon_spent_max"] == 0.0


@pytest.mark.parametrize("algorithm", PRIVATE)
def test_every_prototype_and_logit_algorithm_runs_private_and_reports_epsilon(algorithm: str) -> None:
    result = small_run(algorithm, {"epsilon": 4.0, "clip": 2.0})
    spent = [m.epsilon_by_client for m in result.history]
    planned = result.summary["privacy"]
    assert planned["releases"] == 2 and planned["epsilon_spent_max"] == pytest.approx(4.0, rel=1e-3)
    assert spent[0] == {i: pytest.approx(epsilon_spent(planned["noise_multiplier"], 1, 1e-5)) for i in range(3)}
    assert all(m.train_loss == 0.0 for m in result.history)  # the loss is not released


REFUSED = ["fedkd", "feddbe", "fedgen", "fedl2g"]


@pytest.mark.parametrize("algorithm", REFUSED)
def test_algorithms_without_a_private_mechanism_refuse_privacy_settings_and_say_why(algorithm: str) -> None:
    spec = get_algorithm(algorithm)
    with pytest.raises(ConfigError, match=f"{algorithm} cannot run with privacy settings: it.* uploads"):
        small_run(algorithm, {"epsilon": 4.0, "clip": 2.0})
    assert not (spec.local_privacy or spec.central_privacy)


def test_private_uploads_carry_their_noisy_counts_and_fedproto_weights_by_them() -> None:
    private = PrivacyConfig(epsilon=8.0, clip=5.0).planned(50)
    _, noisy = fedtgp_round(private)
    counts = noisy.tensors[COUNTS]
    assert counts.shape == noisy.tensors[CLASSES].shape and bool((counts > 20).all())  # ~67 samples per class
    server = get_algorithm("fedproto").make_server(make_config(get_algorithm("fedproto"), {}))
    state = server.init(ServerEnv(C, 2, TrainSettings()))

    def upload(row: list[float], count: float) -> ClientUpdate:
        tensors = {CLASSES: torch.tensor([1]), PROTOTYPES: torch.tensor([row]), COUNTS: torch.tensor([count])}
        return ClientUpdate(round=0, client_id=0, num_samples=1, tensors=tensors)

    state = server.aggregate(state, [upload([0.0, 0.0], 90.0), upload([4.0, 8.0], 10.0)])
    assert torch.allclose(state.prototypes, torch.tensor([[0.4, 0.8]]))  # not the unweighted [2, 4]
    with pytest.raises(WireError, match="'counts' must be finite and positive"):
        check_feature_prototypes(upload([1.0, 1.0], -3.0), C, 2)
