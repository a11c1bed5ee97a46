"""FedCP's client and server halves (pfl_algorithms.md 9 and 12): what travels (1,109,386 floats for cnn4 on
1x28x28 with C = 10), which tensors each phase moves, and what a client takes from a package depending on whether
it trained in the previous round."""

import copy

import pytest
import torch
from torch import nn

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ClientContext, ServerEnv, TrainSettings
from fedloom.algorithms.fedcp.client import (
    BASE_G_STATE,
    CONTEXT_STATE,
    CPN_STATE,
    HEAD_G_STATE,
    FedCPClient,
    fedcp_model,
)
from fedloom.algorithms.fedcp.config import FedCPConfig
from fedloom.algorithms.fedcp.math import initial_context
from fedloom.algorithms.fedcp.server import FedCPServer, check_fedcp_names, check_fedcp_upload
from fedloom.algorithms.fedcp.training import evaluate_logits
from fedloom.algorithms.global_model import BASE_ONLY, model_tensors
from fedloom.algorithms.model_parts import TensorMap, part_tensors, select_part
from fedloom.data.types import ClientData
from fedloom.errors import WireError
from fedloom.models import build_model
from fedloom.wire import ClientUpdate, GlobalPayload

SHAPE, C, K = (1, 28, 28), 10, 512
ENV = ServerEnv(C, K, TrainSettings(), seed=0, input_shape=SHAPE, reference_arch="cnn4", rounds=3)
BASE_FLOATS, HEAD_FLOATS, CPN_FLOATS = 576_896, 5_130, 527_360


def context(seed: int = 0) -> ClientContext:
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.rand(40, *SHAPE, generator=gen), torch.arange(40) % 3
    data = ClientData(client_id=seed, train_x=x, train_y=y, test_x=x[:20], test_y=y[:20])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model("cnn4", SHAPE, C)
    settings = TrainSettings(batch_size=10, lr=0.05)
    return ClientContext(seed, model, data, C, settings, torch.Generator().manual_seed(seed))


def halves() -> tuple[FedCPClient, FedCPServer, GlobalPayload, GlobalPayload]:
    """(client half, server half, bootstrap, the first package)."""
    client, server = FedCPClient(FedCPConfig()), FedCPServer(FedCPConfig())  # the halves, unwrapped
    state = server.init(ENV)
    return client, server, server.bootstrap(state), server.broadcast(state)


def joined(bootstrap: GlobalPayload, seed: int = 0) -> ClientContext:
    ctx = context(seed)
    FedCPClient(FedCPConfig()).join(ctx, bootstrap)
    return ctx


def params(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def same(a: nn.Module | list[torch.Tensor], b: nn.Module | list[torch.Tensor]) -> bool:
    left = params(a) if isinstance(a, nn.Module) else a
    right = params(b) if isinstance(b, nn.Module) else b
    return all(torch.equal(p, q) for p, q in zip(left, right, strict=True))


def holds(module: nn.Module, tensors: TensorMap, prefix: str) -> bool:
    return all(torch.equal(t, tensors[n]) for n, t in part_tensors(module, prefix).items())


def shifted(tensors: TensorMap, by: float) -> TensorMap:
    return {n: t + by for n, t in tensors.items()}


def test_the_package_and_the_upload_hold_base_head_g_and_cpn_1109386_floats() -> None:
    client, _, bootstrap, payload = halves()
    sizes = {p: sum(t.numel() for t in select_part(payload.tensors, p).values()) for p in ("base.", "head_g.", "cpn.")}
    assert sizes == {"base.": BASE_FLOATS, "head_g.": HEAD_FLOATS, "cpn.": CPN_FLOATS}
    assert sum(sizes.values()) == 1_109_386 == sum(t.numel() for t in payload.tensors.values())
    ctx = joined(bootstrap)
    update = client.fit(ctx, payload)
    assert update.tensors.keys() == payload.tensors.keys() and update.num_samples == 40
    assert all(t.dtype == torch.float32 for t in update.tensors.values())
    check_fedcp_names(update, C, K)
    check_fedcp_upload(update, ENV, None)


def test_the_server_builds_the_same_start_from_the_run_seed_with_fedavgs_base() -> None:
    _, _, _, first = halves()
    _, _, _, again = halves()
    assert all(torch.equal(first.tensors[n], again.tensors[n]) for n in first.tensors)
    fedavg = get_algorithm("fedavg")
    fedavg_start = fedavg.make_server(make_config(fedavg, {})).broadcast(fedavg.make_server(None).init(ENV))
    assert all(torch.equal(first.tensors[n], t) for n, t in select_part(fedavg_start.tensors, "base.").items())
    assert torch.equal(first.tensors["head_g.weight"], fedavg_start.tensors["head.weight"])


def test_the_first_package_gives_every_client_the_same_start() -> None:
    client, _, bootstrap, payload = halves()
    a, b = joined(bootstrap, 0), joined(bootstrap, 1)
    for ctx in (a, b):
        client.receive(ctx, payload)
        assert holds(ctx.model.base, payload.tensors, "base.") and holds(
            ctx.state[BASE_G_STATE], payload.tensors, "base."
        )
        assert holds(ctx.model.head, payload.tensors, "head_g.") and holds(
            ctx.state[HEAD_G_STATE], payload.tensors, "head_g."
        )
        assert holds(ctx.state[CPN_STATE], payload.tensors, "cpn.")
        assert torch.equal(ctx.state[CONTEXT_STATE], initial_context(K))


def test_fit_trains_base_head_p_and_cpn_then_mixes_head_g_and_leaves_base_g() -> None:
    client, _, bootstrap, payload = halves()
    ctx = joined(bootstrap)
    client.receive(ctx, payload)
    before = copy.deepcopy(fedcp_model(ctx))
    client.fit(ctx, payload)
    model = fedcp_model(ctx)
    assert not same(model.base, before.base) and not same(model.head_p, before.head_p)
    assert not same(model.cpn, before.cpn)
    assert same(model.base_g, before.base_g) and holds(model.base_g, payload.tensors, "base.")
    mixed = [0.5 * p + 0.5 * g for p, g in zip(params(model.head_p), params(before.head_g), strict=True)]
    assert same(model.head_g, mixed)
    assert all(not p.requires_grad for p in [*model.head_g.parameters(), *model.base_g.parameters()])


def test_a_client_selected_last_round_takes_head_g_cpn_and_a_new_context_the_others_the_base_only() -> None:
    client, _, bootstrap, payload = halves()
    selected, idle = joined(bootstrap, 0), joined(bootstrap, 1)
    client.fit(selected, payload)
    client.evaluate(idle, payload)
    idle_kept = [copy.deepcopy(idle.state[HEAD_G_STATE]), copy.deepcopy(idle.state[CPN_STATE])]
    trained_head = linear_weight(selected).sum(dim=0)
    following = GlobalPayload(round=1, tensors=shifted(payload.tensors, 0.25))
    for ctx in (selected, idle):
        client.evaluate(ctx, following)
        assert holds(ctx.model.base, following.tensors, "base.")
        assert holds(ctx.state[BASE_G_STATE], following.tensors, "base.")
    assert holds(selected.state[HEAD_G_STATE], following.tensors, "head_g.")
    assert holds(selected.state[CPN_STATE], following.tensors, "cpn.")
    assert torch.equal(selected.state[CONTEXT_STATE], trained_head)
    assert same(idle.state[HEAD_G_STATE], idle_kept[0]) and same(idle.state[CPN_STATE], idle_kept[1])
    assert torch.equal(idle.state[CONTEXT_STATE], initial_context(K))
    assert not holds(idle.model.head, following.tensors, "head_g.")  # head_p never comes from a later package


def linear_weight(ctx: ClientContext) -> torch.Tensor:
    weight = ctx.model.head.get_parameter("weight")
    return weight.detach().clone()


def test_a_package_is_taken_once_whether_evaluate_or_fit_sees_it_first() -> None:
    client, _, bootstrap, payload = halves()
    ctx = joined(bootstrap)
    first = client.evaluate(ctx, payload)
    with torch.no_grad():
        ctx.model.base.get_parameter("conv1.bias").add_(1.0)  # a second receive would overwrite this
    marked = model_tensors(ctx.model, BASE_ONLY)
    client.receive(ctx, payload)
    assert all(torch.equal(t, marked[n]) for n, t in model_tensors(ctx.model, BASE_ONLY).items())
    with torch.no_grad():
        ctx.model.base.get_parameter("conv1.bias").sub_(1.0)
    assert client.evaluate(ctx, payload) == first  # the same noise for the same package


def test_evaluation_draws_gumbel_noise_seeded_per_client_and_round() -> None:
    client, _, bootstrap, payload = halves()
    ctx = joined(bootstrap)
    client.receive(ctx, payload)
    model, c = fedcp_model(ctx), ctx.state[CONTEXT_STATE]
    once, again, other = (evaluate_logits(ctx, model, c, seed) for seed in (7, 7, 8))
    assert torch.equal(once, again) and not torch.equal(once, other)


def upload(tensors: TensorMap) -> ClientUpdate:
    return ClientUpdate(round=0, client_id=0, num_samples=1, tensors=tensors)


def test_malformed_uploads_are_refused() -> None:
    _, _, _, payload = halves()
    good = dict(payload.tensors)
    for bad, match in [
        ({**good, "head.weight": torch.zeros(C, K)}, "float32 'base.*'"),
        ({**good, "cpn.norm.bias": torch.zeros(2 * K, dtype=torch.float64)}, "float32"),
        ({n: t for n, t in good.items() if n != "cpn.linear.bias"}, "missing"),
        ({**good, "head_g.weight": torch.zeros(C, K + 1)}, r"\[10, 512\]"),
    ]:
        with pytest.raises(WireError, match=match):
            check_fedcp_names(upload(bad), C, K)
        with pytest.raises(WireError):
            check_fedcp_upload(upload(bad), ENV, None)
    no_base_conv = {n: t for n, t in good.items() if n != "base.conv1.weight"}
    check_fedcp_names(upload(no_base_conv), C, K)  # the base's shapes need the environment
    with pytest.raises(WireError, match="missing"):
        check_fedcp_upload(upload(no_base_conv), ENV, None)
    with pytest.raises(WireError, match="finite"):
        check_fedcp_upload(upload({**good, "base.fc1.bias": torch.full((512,), float("nan"))}), ENV, None)


def test_the_server_averages_each_part_by_train_samples() -> None:
    _, server, _, payload = halves()
    state = server.init(ENV)
    ones = {n: torch.ones_like(t) for n, t in payload.tensors.items()}
    fives = {n: torch.full_like(t, 5.0) for n, t in payload.tensors.items()}
    updates = [
        ClientUpdate(round=0, client_id=i, num_samples=s, tensors=t)
        for i, (s, t) in enumerate([(30, ones), (10, fives)])
    ]
    published = server.broadcast(server.aggregate(state, updates))
    assert published.round == 1 and published.tensors.keys() == payload.tensors.keys()
    assert all(torch.equal(t, torch.full_like(t, 2.0)) for t in published.tensors.values())
