"""GPFL's client and server halves (pfl_algorithms.md 10): what travels, the contexts made from the GCE a client
held before the package, what training moves, what evaluation measures, the decayed fused step and the checks
on uploads."""

import copy
from typing import Any

import pytest
import torch
from torch import nn

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ClientContext, ServerEnv, TrainSettings
from fedloom.algorithms.global_model import BASE_ONLY, model_tensors
from fedloom.algorithms.gpfl.client import CONTEXTS, FROZEN, DecayGroup, cov_of, gce_of
from fedloom.algorithms.gpfl.math import valve
from fedloom.algorithms.gpfl.modules import ConditionalValve, module_tensors
from fedloom.algorithms.gpfl.server import check_gpfl_names, check_gpfl_upload
from fedloom.algorithms.training import stepping
from fedloom.data.types import ClientData
from fedloom.errors import ConfigError, WireError
from fedloom.models import build_model
from fedloom.wire import ClientUpdate, GlobalPayload

SHAPE, C = (1, 28, 28), 10
ENV = ServerEnv(C, 512, TrainSettings(), seed=0, input_shape=SHAPE, reference_arch="cnn4", rounds=2)
BASE, GCE_FLOATS, COV_FLOATS = 576_896, 5_120, 527_360


def context(seed: int = 0) -> ClientContext:
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.rand(40, *SHAPE, generator=gen), torch.arange(40) % 3
    data = ClientData(client_id=0, train_x=x, train_y=y, test_x=x[:20], test_y=y[:20])
    torch.manual_seed(seed)
    settings = TrainSettings(batch_size=10, lr=0.05)
    return ClientContext(0, build_model("cnn4", SHAPE, C), data, C, settings, torch.Generator().manual_seed(seed))


def halves(**options: object) -> tuple[Any, Any, Any, GlobalPayload]:
    """(client half, server half, server state, the server's first package), the client joined to `context()`."""
    spec = get_algorithm("gpfl")
    config = make_config(spec, options)
    server = spec.make_server(config)
    state = server.init(ENV)
    return spec.make_client(config), server, state, server.broadcast(state)


def joined(client: Any, server: Any, state: Any) -> ClientContext:
    ctx = context()
    client.join(ctx, server.bootstrap(state))
    return ctx


def upload(tensors: dict[str, torch.Tensor], samples: int = 1) -> ClientUpdate:
    return ClientUpdate(round=0, client_id=0, num_samples=samples, tensors=tensors)


def package_part(payload: GlobalPayload, prefix: str) -> dict[str, torch.Tensor]:
    return {n: t for n, t in payload.tensors.items() if n.startswith(prefix)}


def test_the_package_is_base_gce_and_cov_drawn_from_the_run_seed() -> None:
    _, server, _, payload = halves()
    floats = {p: sum(t.numel() for t in package_part(payload, p).values()) for p in ("base.", "gce.", "cov.")}
    assert floats == {"base.": BASE, "gce.": GCE_FLOATS, "cov.": COV_FLOATS}
    assert sum(t.numel() for t in payload.tensors.values()) == 1_109_376  # nothing else: no head
    again = server.broadcast(server.init(ENV))
    assert all(torch.equal(t, again.tensors[n]) for n, t in payload.tensors.items())
    gce = payload.tensors["gce.weight"]
    assert gce.shape == (C, 512) and abs(float(gce.mean())) < 0.05 and abs(float(gce.std()) - 1) < 0.05  # N(0, 1)
    assert get_algorithm("gpfl").one_architecture


def test_the_first_package_leaves_the_contexts_at_zero() -> None:
    client, server, state, payload = halves()
    ctx = joined(client, server, state)
    client.evaluate(ctx, payload)
    assert torch.equal(ctx.state[CONTEXTS], torch.zeros(2, 512))
    assert torch.equal(gce_of(ctx).weight, payload.tensors["gce.weight"])
    assert torch.equal(ctx.state[FROZEN], payload.tensors["gce.weight"])


def test_contexts_come_from_the_gce_held_before_the_package_once_per_round() -> None:
    client, server, state, payload = halves()
    ctx = joined(client, server, state)
    client.fit(ctx, payload)
    trained = gce_of(ctx).weight.detach().clone()
    assert not torch.equal(trained, payload.tensors["gce.weight"])
    new = {**payload.tensors, "gce.weight": torch.full((C, 512), 5.0)}
    following = GlobalPayload(round=1, tensors=new)
    client.evaluate(ctx, following)
    shares = torch.tensor([14, 13, 13, 0, 0, 0, 0, 0, 0, 0]) / 40  # labels 0, 1, 2, 0, ... of 40 samples
    expected = torch.stack([shares @ trained, trained.mean(dim=0)])
    assert torch.allclose(ctx.state[CONTEXTS], expected, atol=1e-6)
    assert torch.equal(ctx.state[FROZEN], new["gce.weight"]) and torch.equal(gce_of(ctx).weight, new["gce.weight"])
    after_evaluation = ctx.state[CONTEXTS].clone()
    client.fit(ctx, following)  # the same package again: taken in once, so the contexts stay
    assert torch.equal(ctx.state[CONTEXTS], after_evaluation)
    assert torch.equal(ctx.state[FROZEN], new["gce.weight"])


def test_training_moves_base_head_gce_and_cov_and_uploads_all_but_the_head() -> None:
    client, server, state, payload = halves()
    ctx = joined(client, server, state)
    head = copy.deepcopy(ctx.model.head)
    update = client.fit(ctx, payload)
    assert update.tensors.keys() == payload.tensors.keys()
    moved = {n for n, t in payload.tensors.items() if not torch.equal(update.tensors[n], t)}
    # round 0: the contexts are zero, so the branches' first weights get no gradient (g ctx^T = 0)
    assert set(payload.tensors) - moved == {"cov.gamma.0.weight", "cov.beta.0.weight"}
    assert not torch.equal(ctx.model.head.get_parameter("weight"), head.get_parameter("weight"))
    current = {**model_tensors(ctx.model, BASE_ONLY), **module_tensors(gce_of(ctx), cov_of(ctx))}
    assert all(torch.equal(current[n], t) for n, t in update.tensors.items())
    assert torch.equal(ctx.state[FROZEN], payload.tensors["gce.weight"])  # the target does not train
    assert update.num_samples == 40 and update.values["loss"] > 0
    following = GlobalPayload(round=1, tensors=payload.tensors)
    second = client.fit(ctx, following)
    assert all(not torch.equal(second.tensors[n], t) for n, t in payload.tensors.items())  # contexts now non-zero


def test_evaluation_is_the_own_head_on_the_personal_feature() -> None:
    client, server, state, payload = halves()
    ctx = joined(client, server, state)
    client.fit(ctx, payload)
    following = GlobalPayload(round=1, tensors=payload.tensors)
    report = client.evaluate(ctx, following)
    ctx.model.eval()
    with torch.no_grad():
        personal = cov_of(ctx)(ctx.model.base(ctx.data.test_x), ctx.state[CONTEXTS][0])
        predictions = ctx.model.head(personal).argmax(dim=1)
    assert report.correct == int((predictions == ctx.data.test_y).sum()) and report.total == 20
    assert ctx.state[CONTEXTS].abs().sum() > 0


@pytest.mark.parametrize("mu", [0.0, 0.1])
def test_the_fused_valve_step_is_sgd_with_weight_decay(mu: float) -> None:
    torch.manual_seed(0)
    cov, features, contexts = ConditionalValve(6), torch.rand(5, 6), torch.randn(2, 6)
    reference = copy.deepcopy(cov)
    sgd = torch.optim.SGD(reference.parameters(), lr=0.1, weight_decay=mu)
    before = copy.deepcopy(cov)
    group = DecayGroup(list(cov.parameters()), 0.1, mu, fuse_from=cov)
    assert len(group.fused) == 2  # both branches' Linear layers step inside backward
    for model, step in ((reference, sgd.step), (cov, group.step)):
        with stepping([group] if model is cov else []):
            gamma, beta = model.modulations(contexts)  # once per step, as the client does
            (valve(features, gamma[0], beta[0]).sum() + valve(features, gamma[1], beta[1]).square().sum()).backward()
            step()
    for p, q, start in zip(cov.parameters(), reference.parameters(), before.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6) and not torch.equal(p, start)


def test_the_server_averages_every_part_by_train_samples() -> None:
    _, server, state, _ = halves()
    ones = {n: torch.ones_like(t) for n, t in state.params.items()}
    fives = {n: torch.full_like(t, 5.0) for n, t in state.params.items()}
    payload = server.broadcast(server.aggregate(state, [upload(ones, 30), upload(fives, 10)]))
    assert payload.round == 1 and payload.tensors.keys() == ones.keys()
    assert all(torch.equal(t, torch.full_like(t, 2.0)) for t in payload.tensors.values())  # (30 + 50) / 40


def test_uploads_must_be_exactly_base_gce_and_cov() -> None:
    _, _, _, payload = halves()
    tensors = dict(payload.tensors)
    check_gpfl_names(upload(tensors), C, 512)
    check_gpfl_upload(upload(tensors), ENV, None)
    head = {"head.weight": torch.zeros(C, 512), "head.bias": torch.zeros(C)}
    with pytest.raises(WireError, match="unexpected"):
        check_gpfl_upload(upload({**tensors, **head}), ENV, None)  # the personal head never travels
    with pytest.raises(WireError, match="missing"):
        check_gpfl_upload(upload({n: t for n, t in tensors.items() if not n.startswith("cov.")}), ENV, None)
    with pytest.raises(WireError, match=r"\[10, 512\]"):
        check_gpfl_upload(upload({**tensors, "gce.weight": torch.zeros(C, 16)}), ENV, None)
    with pytest.raises(WireError, match="finite"):
        check_gpfl_upload(upload({**tensors, "gce.weight": torch.full((C, 512), float("nan"))}), ENV, None)
    with pytest.raises(WireError, match="float32"):
        check_gpfl_names(upload({**tensors, "gce.weight": torch.zeros(C, 512, dtype=torch.float64)}), C, 512)
    with pytest.raises(WireError, match="parameters only"):
        check_gpfl_names(upload(head), C, 512)


def test_a_client_of_another_architecture_refuses_to_join() -> None:
    client, server, state, _ = halves()
    ctx = context()
    ctx.model = build_model("cnn_c1", SHAPE, C)
    with pytest.raises(ConfigError, match="this client's model is cnn_c1, the federation's is cnn4"):
        client.join(ctx, server.bootstrap(state))


def test_options_default_to_pfllib_and_take_the_authors_values() -> None:
    spec = get_algorithm("gpfl")
    assert make_config(spec, {}).model_dump() == {"lam": 1.0, "mu": 0.0}
    assert make_config(spec, {"lam": 0.01, "mu": 0.1}).model_dump() == {"lam": 0.01, "mu": 0.1}
    with pytest.raises(ConfigError):
        make_config(spec, {"lam": -1.0})


def test_modules_are_plain_modules_for_checkpoints() -> None:
    client, server, state, _ = halves()
    ctx = joined(client, server, state)
    assert all(isinstance(v, nn.Module | torch.Tensor) for v in ctx.state.values())
