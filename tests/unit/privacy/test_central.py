"""Central DP of averaged updates (DP-FedAvg): clipping bounds each client's update, the server's noise has
std z C / n, the wrappers clip, count and refuse like the local mechanism, and every plug-in that offers
central DP runs a private federation that reports the epsilon each client has spent."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch

from fedloom.algorithms import algorithm_names, get_algorithm, make_config
from fedloom.algorithms.base import ClientContext, ServerEnv, TrainSettings
from fedloom.algorithms.central_privacy import noise_generator
from fedloom.data.types import ClientData
from fedloom.errors import WireError
from fedloom.models import build_model
from fedloom.privacy import PrivacyBudgetExceeded, PrivacyConfig, epsilon_spent
from fedloom.privacy.central import clip_update, clipped_upload, global_norm, noisy_mean, update_of
from fedloom.simulation import SimulationConfig, run_simulation

SHAPE, C = (1, 28, 28), 4
CENTRAL = ["fedavg", "fedper", "fedrep", "fedbabu", "ditto", "lg", "fml", "fedmrl", "fedala", "fedcp", "gpfl"]


def random_tensors(gen: torch.Generator, scale: float) -> dict[str, torch.Tensor]:
    return {"a": torch.randn(7, 3, generator=gen) * scale, "b": torch.randn(5, generator=gen) * scale}


def test_clipped_updates_never_exceed_the_bound_and_short_ones_stay_as_they_are() -> None:
    gen = torch.Generator().manual_seed(0)
    for case in range(200):
        clip = float(torch.rand(1, generator=gen)) * 5 + 0.01
        delta = random_tensors(gen, scale=float(torch.rand(1, generator=gen)) * 3)
        clipped = clip_update(delta, clip)
        assert global_norm(clipped) <= clip * (1 + 1e-5), case
        if global_norm(delta) <= clip:
            assert all(torch.equal(clipped[k], delta[k]) for k in delta), case


def test_a_diverged_update_is_sent_as_the_zero_update() -> None:
    delta = {"a": torch.tensor([1.0, float("nan")]), "b": torch.tensor([float("inf")])}
    assert all(torch.equal(t, torch.zeros_like(t)) for t in clip_update(delta, 1.0).values())


def test_the_upload_is_the_published_tensors_plus_the_clipped_update() -> None:
    gen = torch.Generator().manual_seed(1)
    published = {**random_tensors(gen, 1.0), "bn.num_batches_tracked": torch.tensor(3)}
    trained = {k: v + 10 if v.is_floating_point() else v + 99 for k, v in published.items()}
    upload = clipped_upload(trained, published, clip=2.0)
    assert global_norm(update_of(upload, published)) == pytest.approx(2.0, rel=1e-5)
    assert torch.equal(upload["bn.num_batches_tracked"], published["bn.num_batches_tracked"])  # not released
    with pytest.raises(WireError, match="must hold the published float tensors"):
        update_of({"a": trained["a"]}, published)


def test_server_noise_has_std_z_clip_over_the_number_of_uploads() -> None:
    published = {"w": torch.zeros(20_000)}
    uploads = [dict(published) for _ in range(4)]  # zero updates: the mean moves by the noise alone
    mean = noisy_mean(uploads, published, clip=3.0, noise_multiplier=1.5, rng=torch.Generator().manual_seed(0))
    assert float(mean["w"].std()) == pytest.approx(1.5 * 3.0 / 4, rel=0.02)
    assert abs(float(mean["w"].mean())) < 0.02


def test_one_client_moves_the_noiseless_sum_by_at_most_the_clip() -> None:
    gen = torch.Generator().manual_seed(2)
    published = random_tensors(gen, 1.0)
    others = [{k: v + torch.randn(v.shape, generator=gen) for k, v in published.items()} for _ in range(3)]
    extreme = {k: v + 100 for k, v in published.items()}
    zero = torch.Generator().manual_seed(0)
    with_client = noisy_mean([*others, extreme], published, 1.0, 0.0, zero)
    without = noisy_mean([*others, dict(published)], published, 1.0, 0.0, zero)  # its update replaced by zero
    moved = {k: (with_client[k] - without[k]) * 4 for k in published}  # the sums differ by n * the means'
    assert global_norm(moved) <= 1.0 + 1e-4


def fedavg_context(privacy: PrivacyConfig | None) -> ClientContext:
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(60, *SHAPE, generator=gen), torch.arange(60) % C
    data = ClientData(client_id=0, train_x=x, train_y=y, test_x=x[:12], test_y=y[:12])
    settings = TrainSettings(batch_size=10, lr=0.5, privacy=privacy)
    torch.manual_seed(0)
    return ClientContext(0, build_model("cnn4", SHAPE, C), data, C, settings, torch.Generator().manual_seed(0))


def fedavg_round(privacy: PrivacyConfig | None) -> tuple[Any, Any, ClientContext, Any, Any]:
    spec = get_algorithm("fedavg")
    config = make_config(spec, {})
    server, client = spec.make_server(config), spec.make_client(config)
    env = ServerEnv(C, 512, TrainSettings(privacy=privacy), input_shape=SHAPE, reference_arch="cnn4", seed=5)
    state = server.init(env)
    ctx = fedavg_context(privacy)
    client.join(ctx, server.bootstrap(state))
    payload = server.broadcast(state)
    return server, state, ctx, payload, client.fit(ctx, payload)


def test_the_client_clips_its_update_and_sends_no_loss_and_no_sample_count() -> None:
    privacy = PrivacyConfig(epsilon=8.0, clip=0.5).planned(10)
    *_, payload, update = fedavg_round(privacy)
    assert global_norm(update_of(update.tensors, payload.tensors)) <= 0.5 * (1 + 1e-5)
    assert update.values == {"epsilon": pytest.approx(epsilon_spent(privacy.noise_multiplier or 0, 1, 1e-5))}
    assert update.num_samples == 1


def test_the_server_adds_seeded_noise_to_the_mean_of_the_clipped_updates() -> None:
    privacy = PrivacyConfig(noise_multiplier=0.7, clip=0.5)
    server, state, _, payload, update = fedavg_round(privacy)
    new_state = server.aggregate(state, [update, update])
    expected = noisy_mean([update.tensors] * 2, payload.tensors, 0.5, 0.7, noise_generator(5, payload.round))
    assert all(torch.equal(new_state.params[k], expected[k]) for k in expected)


def test_a_client_refuses_before_training_once_its_budget_is_spent() -> None:
    privacy = PrivacyConfig(epsilon=1.0, clip=1.0).planned(1)
    server, state, ctx, payload, _ = fedavg_round(privacy)
    model = copy.deepcopy(ctx.model)
    client = get_algorithm("fedavg").make_client(make_config(get_algorithm("fedavg"), {}))
    with pytest.raises(PrivacyBudgetExceeded, match="upload 2 would spend epsilon"):
        client.fit(ctx, payload)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), ctx.model.parameters(), strict=True))


@pytest.mark.parametrize("algorithm", CENTRAL)
def test_every_weight_averaging_algorithm_runs_with_central_dp_and_reports_epsilon(algorithm: str) -> None:
    cfg = SimulationConfig(
        algorithm=algorithm,
        dataset="synthetic",
        dataset_options={"samples": 240, "num_classes": C},
        partition="iid",
        clients=3,
        rounds=2,
        models="cnn4",
        privacy={"noise_multiplier": 1e-4, "clip": 5.0},
        threads=1,
    )
    result = run_simulation(cfg, progress=False)
    expected = [epsilon_spent(1e-4, r + 1, 1e-5) for r in range(2)]
    assert [m.epsilon_by_client for m in result.history] == [{i: pytest.approx(e) for i in range(3)} for e in expected]
    assert all(m.train_loss == 0.0 for m in result.history)  # the loss is not released


def test_every_algorithm_says_which_privacy_it_offers() -> None:
    for name in algorithm_names():
        spec = get_algorithm(name)
        assert not (spec.local_privacy and spec.central_privacy), name
        assert (spec.local_privacy or spec.central_privacy) == (name not in REFUSED_NAMES), name


REFUSED_NAMES = {"fedkd", "feddbe", "fedgen", "fedl2g"}
