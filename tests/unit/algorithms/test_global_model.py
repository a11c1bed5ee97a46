"""The weight-sharing pieces FedAvg and the personalised algorithms stand on: parts on the wire, the one
architecture they need (refused clearly otherwise), upload checks and the FedAvg server half."""

import pytest
import torch

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ClientContext, ServerEnv, TrainSettings
from fedloom.algorithms.global_model import (
    BASE_ONLY,
    WHOLE_MODEL,
    check_base_upload,
    check_model_names,
    check_whole_model_upload,
    join_global_model,
    load_model,
    model_shapes,
    model_tensors,
)
from fedloom.data.types import ClientData
from fedloom.errors import ConfigError, WireError
from fedloom.models import build_model
from fedloom.wire import ClientUpdate, GlobalPayload

SHAPE, C = (1, 28, 28), 10
ENV = ServerEnv(C, 512, TrainSettings(), seed=0, input_shape=SHAPE, reference_arch="cnn4", rounds=3)
PFL = ["fedavg", "fedper", "fedrep", "fedbabu", "ditto", "fedcp"]


def context(arch: str = "cnn4", client_id: int = 0) -> ClientContext:
    gen = torch.Generator().manual_seed(client_id)
    x, y = torch.rand(12, *SHAPE, generator=gen), torch.arange(12) % C
    data = ClientData(client_id=client_id, train_x=x, train_y=y, test_x=x[:4], test_y=y[:4])
    model = build_model(arch, SHAPE, C)
    return ClientContext(client_id, model, data, C, TrainSettings(batch_size=4), torch.Generator().manual_seed(0))


def upload(tensors: dict[str, torch.Tensor], samples: int = 1) -> ClientUpdate:
    return ClientUpdate(round=0, client_id=0, num_samples=samples, tensors=tensors)


def test_parts_travel_under_base_and_head_names_and_load_back() -> None:
    model = build_model("cnn4", SHAPE, C)
    tensors = model_tensors(model, WHOLE_MODEL)
    assert sorted(tensors)[:2] == ["base.conv1.bias", "base.conv1.weight"] and "head.weight" in tensors
    assert set(model_tensors(model, BASE_ONLY)) == {n for n in tensors if n.startswith("base.")}
    assert model_shapes(model, WHOLE_MODEL)["base.fc1.weight"] == (512, 1024)
    other = build_model("cnn4", SHAPE, C)
    load_model(other, tensors, BASE_ONLY)
    assert torch.equal(other.base.get_parameter("conv1.weight"), model.base.get_parameter("conv1.weight"))
    assert not torch.equal(other.head.get_parameter("weight"), model.head.get_parameter("weight"))  # own head stays


@pytest.mark.parametrize("name", PFL)
def test_every_pfl_algorithm_refuses_a_heterogeneous_group(name: str) -> None:
    spec = get_algorithm(name)
    assert spec.one_architecture
    spec.check_architectures(["cnn4", "cnn4"])
    with pytest.raises(ConfigError, match=rf"{name} averages the clients' model weights .* got cnn4, cnn_c1"):
        spec.check_architectures(["cnn4", "cnn_c1", "cnn4"])
    get_algorithm("fedproto").check_architectures(["cnn4", "cnn_c1"])  # heterogeneous algorithms do not care


@pytest.mark.parametrize("name", PFL)
def test_a_client_of_another_architecture_refuses_to_join(name: str) -> None:
    spec = get_algorithm(name)
    config = make_config(spec, {})
    bootstrap = spec.make_server(config).bootstrap(spec.make_server(config).init(ENV))
    client = spec.make_client(config)
    client.join(context(), bootstrap)
    with pytest.raises(ConfigError, match="this client's model is cnn_c1, the federation's is cnn4"):
        client.join(context("cnn_c1"), bootstrap)


def test_join_needs_the_architecture_in_the_bootstrap() -> None:
    with pytest.raises(WireError, match="must name"):
        join_global_model(context(), GlobalPayload(round=0), "fedavg")


def test_upload_checks_name_shape_and_dtype() -> None:
    tensors = model_tensors(build_model("cnn4", SHAPE, C), WHOLE_MODEL)
    base = {n: t for n, t in tensors.items() if n.startswith("base.")}
    check_model_names(upload(tensors), C, 512)
    check_whole_model_upload(upload(tensors), ENV, None)
    check_base_upload(upload(base), ENV, None)
    with pytest.raises(WireError, match="unexpected"):
        check_base_upload(upload(tensors), ENV, None)  # FedPer & co. must not upload the personal head
    with pytest.raises(WireError, match="missing"):
        check_whole_model_upload(upload(base), ENV, None)
    with pytest.raises(WireError, match="float32"):
        check_model_names(upload({**tensors, "head.bias": torch.zeros(C, dtype=torch.float64)}), C, 512)
    with pytest.raises(WireError, match="parameters only"):
        check_model_names(upload({"prototypes": torch.zeros(1)}), C, 512)
    with pytest.raises(WireError, match=r"\[512, 1024\]"):
        check_whole_model_upload(upload({**tensors, "base.fc1.weight": torch.zeros(512, 1600)}), ENV, None)


def test_the_fedavg_server_averages_by_train_samples() -> None:
    spec = get_algorithm("fedavg")
    server = spec.make_server(make_config(spec, {}))
    state = server.init(ENV)
    ones = {n: torch.ones_like(t) for n, t in state.params.items()}
    fives = {n: torch.full_like(t, 5.0) for n, t in state.params.items()}
    state = server.aggregate(state, [upload(ones, 30), upload(fives, 10)])
    payload = server.broadcast(state)
    assert payload.round == 1 and payload.tensors.keys() == ones.keys()
    assert all(torch.equal(t, torch.full_like(t, 2.0)) for t in payload.tensors.values())  # (30 + 50) / 40
    assert server.aggregate(state, []).params is state.params  # no upload: the model stays
    with pytest.raises(WireError):
        server.aggregate(state, [upload({"base.conv1.weight": torch.zeros(1)})])


def test_the_initial_global_model_is_the_reference_architecture_from_the_run_seed() -> None:
    spec = get_algorithm("fedavg")
    server = spec.make_server(make_config(spec, {}))
    first, again = server.broadcast(server.init(ENV)), server.broadcast(server.init(ENV))
    assert all(torch.equal(first.tensors[n], again.tensors[n]) for n in first.tensors)
    assert sum(t.numel() for t in first.tensors.values()) == 582_026
