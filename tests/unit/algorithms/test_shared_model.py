import pytest
import torch

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ServerEnv, TrainSettings
from fedloom.algorithms.model_parts import part_tensors
from fedloom.algorithms.shared_model import SHARED, arch_name, arch_tensor, check_shared_names, reference_model
from fedloom.errors import ConfigError, WireError
from fedloom.wire import ClientUpdate

OPTIONS = {"fedmrl": {"shared_feature_dim": 8}}  # at most feature_dim (16 here)


def env(arch: str | None = "cnn4", rounds: int | None = 5) -> ServerEnv:
    return ServerEnv(
        num_classes=3,
        feature_dim=16,
        settings=TrainSettings(),
        seed=7,
        input_shape=(1, 28, 28),
        reference_arch=arch,
        rounds=rounds,
    )


def update(tensors: dict[str, torch.Tensor], client: int = 0) -> ClientUpdate:
    return ClientUpdate(round=0, client_id=client, num_samples=10, tensors=tensors)


def test_architecture_names_cross_the_wire_as_bytes_and_are_checked() -> None:
    assert arch_name({"shared_arch": arch_tensor("cnn4")}) == "cnn4"
    with pytest.raises(WireError, match="unknown shared architecture"):
        arch_name({"shared_arch": arch_tensor("resnet9000")})
    with pytest.raises(WireError, match="must name"):
        arch_name({})


def test_server_model_is_seeded_from_the_env() -> None:
    first, second = reference_model(env(), 16), reference_model(env(), 16)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters(), strict=True))


@pytest.mark.parametrize("name", ["fml", "fedmrl", "fedkd"])
def test_server_refuses_to_start_without_a_reference_architecture(name: str) -> None:
    spec = get_algorithm(name)
    with pytest.raises(ConfigError):
        spec.make_server(make_config(spec, OPTIONS.get(name, {}))).init(env(arch=None))


@pytest.mark.parametrize("name", ["fml", "fedmrl"])
def test_server_averages_shared_models_without_weights(name: str) -> None:
    spec = get_algorithm(name)
    server = spec.make_server(make_config(spec, OPTIONS.get(name, {})))
    state = server.init(env())
    params = server.broadcast(state).tensors
    doubled = {k: 2 * v for k, v in params.items()}
    uploads = [update(params, 0), update(doubled, 1)]
    uploads[1] = ClientUpdate(round=0, client_id=1, num_samples=1000, tensors=doubled)  # sizes do not weigh
    after = server.broadcast(server.aggregate(state, uploads))
    assert after.round == 1
    for key, value in params.items():
        torch.testing.assert_close(after.tensors[key], 1.5 * value)


def test_fedmrl_refuses_a_shared_feature_dim_above_feature_dim() -> None:
    spec = get_algorithm("fedmrl")
    with pytest.raises(ConfigError, match="shared_feature_dim 128"):
        spec.make_server(make_config(spec, {})).init(env())


def test_bootstrap_names_the_architecture_and_packages_carry_parameters_only() -> None:
    spec = get_algorithm("fml")
    server = spec.make_server(make_config(spec, {}))
    state = server.init(env())
    assert arch_name(server.bootstrap(state).tensors) == "cnn4"
    assert set(server.broadcast(state).tensors) == set(part_tensors(reference_model(env(), 16), SHARED))


@pytest.mark.parametrize("name", ["fml", "fedmrl", "fedkd"])
def test_uploads_of_the_wrong_model_are_refused_at_the_door(name: str) -> None:
    spec = get_algorithm(name)
    config = make_config(spec, OPTIONS.get(name, {}))
    server = spec.make_server(config)
    good = server.broadcast(server.init(env())).tensors
    assert spec.check_update_env is not None
    spec.check_update_env(update(good), env(), config)
    wrong = next(iter(good))
    with pytest.raises(WireError):
        spec.check_update_env(update({**good, wrong: torch.zeros(2, 2)}), env(), config)
    with pytest.raises(WireError):
        spec.check_update_env(update(good), env(arch="cnn_c1"), config)  # another architecture's shapes
    with pytest.raises(WireError, match="float32"):
        check_shared_names(update({**good, "prototypes": torch.zeros(3, 16)}), 3, 16)


def test_fedkd_publishes_its_energy_and_compressed_averages() -> None:
    spec = get_algorithm("fedkd")
    server = spec.make_server(make_config(spec, {}))
    state = server.init(env(rounds=3))
    first = server.broadcast(state)
    assert first.values["energy"] == pytest.approx(0.96)
    # rank-1 uploads: the published average is factored, and recovers the mean exactly
    low = {k: torch.ones_like(v) for k, v in first.tensors.items()}
    after = server.broadcast(server.aggregate(state, [update(low), update({k: 3 * v for k, v in low.items()}, 1)]))
    assert after.values["energy"] == pytest.approx(0.97)
    assert any(name.endswith(".svd_u") for name in after.tensors)
    assert sum(t.numel() for t in after.tensors.values()) < sum(t.numel() for t in low.values())
