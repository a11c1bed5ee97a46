"""Head-sharing algorithms (LG-FedAvg, FedGH, FedGen): the global head, its average, heterogeneous heads."""

import pytest
import torch
from torch import nn

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ClientContext, ServerEnv, TrainSettings
from fedloom.algorithms.fedgen.math import generator_loss, sample_noise
from fedloom.algorithms.shared_head import HEAD
from fedloom.data.types import ClientData
from fedloom.errors import WireError
from fedloom.models.base import BaseHeadModel
from fedloom.wire import ClientUpdate

C, K = 3, 4
ENV = ServerEnv(num_classes=C, feature_dim=K, settings=TrainSettings(batch_size=4), seed=0)


def context(feature_dim: int = K) -> ClientContext:
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 5, generator=gen), torch.arange(8) % C
    model = BaseHeadModel(nn.Linear(5, feature_dim), nn.Linear(feature_dim, C), feature_dim, "tiny")
    data = ClientData(client_id=0, train_x=x, train_y=y, test_x=x, test_y=y)
    return ClientContext(0, model, data, C, TrainSettings(batch_size=4), torch.Generator().manual_seed(0))


def head_upload(cid: int, value: float, samples: int, **extra: torch.Tensor) -> ClientUpdate:
    tensors = {HEAD + "weight": torch.full((C, K), value), HEAD + "bias": torch.full((C,), value), **extra}
    return ClientUpdate(round=0, client_id=cid, num_samples=samples, tensors=tensors)


def test_lg_global_head_is_the_train_sample_weighted_mean() -> None:
    spec = get_algorithm("lg")
    server = spec.make_server(make_config(spec, {}))
    state = server.aggregate(server.init(ENV), [head_upload(0, 1.0, 30), head_upload(1, 5.0, 10)])
    payload = server.broadcast(state)
    assert sorted(payload.tensors) == [HEAD + "bias", HEAD + "weight"]
    assert torch.equal(payload.tensors[HEAD + "weight"], torch.full((C, K), 2.0))  # (30 * 1 + 10 * 5) / 40


@pytest.mark.parametrize("name", ["lg", "fedgh", "fedgen"])
def test_a_client_whose_head_differs_gets_a_clear_error(name: str) -> None:
    spec = get_algorithm(name)
    config = make_config(spec, {})
    server, client = spec.make_server(config), spec.make_client(config)
    payload = server.broadcast(server.init(ENV))
    with pytest.raises(WireError, match=r"shares heads .* needs identical shapes; got \[\(3, 4\), \(3, 6\)\]"):
        client.fit(context(feature_dim=6), payload)
    assert client.fit(context(), payload).round == 0


@pytest.mark.parametrize("name", ["lg", "fedgen"])
def test_the_server_refuses_an_upload_with_another_head_shape(name: str) -> None:
    spec = get_algorithm(name)
    counts = {"label_counts": torch.ones(C, dtype=torch.int64)} if name == "fedgen" else {}
    odd = ClientUpdate(round=0, client_id=0, num_samples=1, tensors={HEAD + "weight": torch.zeros(C, 6), **counts})
    with pytest.raises(WireError, match="identical shapes"):
        spec.check_update(odd, C, K)
    spec.check_update(head_upload(0, 1.0, 5, **counts), C, K)
    with pytest.raises(WireError, match="unexpected"):
        spec.check_update(head_upload(0, 1.0, 5, **counts, extra=torch.zeros(1)), C, K)


def test_fedgen_trains_its_generator_and_sends_it_without_batchnorm_statistics() -> None:
    spec = get_algorithm("fedgen")
    server = spec.make_server(make_config(spec, {"noise_dim": 4, "hidden_dim": 8, "server_epochs": 200}))
    state = server.init(ENV)
    assert not any(name.startswith("generator.") for name in server.broadcast(state).tensors)
    torch.manual_seed(0)
    heads = [nn.Linear(K, C), nn.Linear(K, C)]
    uploads = [
        ClientUpdate(
            round=0,
            client_id=i,
            num_samples=10,
            tensors={
                HEAD + "weight": h.weight.detach(),
                HEAD + "bias": h.bias.detach(),
                "label_counts": torch.tensor([4, 0, 6]),
            },
        )
        for i, h in enumerate(heads)
    ]
    labels, noise = torch.tensor([0, 2] * 16), sample_noise(32, 4, torch.Generator().manual_seed(5))
    pairs = [(h.weight.detach(), h.bias.detach()) for h in heads]
    weights = torch.tensor([0.5, 0.5])
    with torch.no_grad():
        before = float(generator_loss(state.generator(noise, labels), labels, pairs, weights))
    state = server.aggregate(state, uploads)
    with torch.no_grad():
        after = float(generator_loss(state.generator(noise, labels), labels, pairs, weights))
    assert after < before / 2
    payload = server.broadcast(state)
    sent = {name for name in payload.tensors if name.startswith("generator.")}
    assert sent == {"generator." + name for name, _ in state.generator.named_parameters()}
    assert payload.tensors["label_counts"].tolist() == [8, 0, 12]
    assert torch.equal(payload.tensors["generator.net.3.weight"], state.generator.net[3].weight.detach())
