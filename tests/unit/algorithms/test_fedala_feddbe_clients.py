"""The client and server halves of FedALA and FedDBE: what each round moves, stores and uploads."""

import copy

import torch
from test_pfl_clients import ENV, context, halves, same

from fedloom.algorithms.fedala.client import ROUND, START, top_forward, weight_key
from fedloom.algorithms.feddbe.client import BIAS
from fedloom.algorithms.feddbe.server import GLOBAL_MEAN, INIT, MEAN
from fedloom.algorithms.global_model import WHOLE_MODEL, model_tensors
from fedloom.wire import GlobalPayload


def moved(payload: GlobalPayload, step: float = 0.01) -> GlobalPayload:
    """A later package: every global tensor shifted, as after an aggregation."""
    return GlobalPayload(round=payload.round + 1, tensors={k: v + step for k, v in payload.tensors.items()})


def test_fedala_takes_the_first_package_whole_then_mixes_the_head_only() -> None:
    client, _, first = halves("fedala")
    ctx = context()
    client.evaluate(ctx, first)
    assert all(torch.equal(t, first.tensors[n]) for n, t in model_tensors(ctx.model, WHOLE_MODEL).items())
    client.fit(ctx, first)  # trains: the local model now differs from the package
    local_head = copy.deepcopy(ctx.model.head)
    second = moved(first)
    client.evaluate(ctx, second)
    base = model_tensors(ctx.model, ("base.",))
    assert all(torch.equal(t, second.tensors[n]) for n, t in base.items())  # lower tensors take g
    w = ctx.state[weight_key(0)]
    assert w.shape == ctx.model.head.weight.shape and float(w.min()) >= 0 and float(w.max()) <= 1
    expected = local_head.weight + (second.tensors["head.weight"] - local_head.weight) * w
    assert torch.allclose(ctx.model.head.weight, expected)
    assert not bool(ctx.state[START]) and int(ctx.state[ROUND]) == second.round
    assert all(isinstance(v, torch.Tensor) for v in ctx.state.values())  # what the agent checkpoints


def test_fedala_adapts_once_per_package() -> None:
    client, _, first = halves("fedala")
    ctx = context()
    client.fit(ctx, first)
    second = moved(first)
    client.evaluate(ctx, second)
    after_evaluate = copy.deepcopy(ctx.model)
    rng_state = ctx.rng.get_state()
    client.receive(ctx, second)  # fit's receive of the same package changes nothing
    assert same(ctx.model, after_evaluate) and torch.equal(ctx.rng.get_state(), rng_state)


def test_fedala_head_only_fast_path_equals_the_whole_model_pass() -> None:
    ctx = context()
    theta = [ctx.model.head.weight.detach() * 2, ctx.model.head.bias.detach() + 1]
    names = ["head.weight", "head.bias"]
    fast = top_forward(ctx, names, slice(3, 23))(theta, slice(0, 10))
    whole = torch.func.functional_call(ctx.model, dict(zip(names, theta, strict=True)), (ctx.data.train_x[3:13],))
    assert torch.allclose(fast, whole, atol=1e-6)


def test_feddbe_keeps_its_bias_and_evaluates_through_it() -> None:
    client, server, payload = halves("feddbe")
    ctx = context()
    client.join(ctx, server.bootstrap(server.init(ENV)))
    update = client.fit(ctx, payload)
    bias = ctx.state[BIAS].bias.detach()
    assert float(bias.abs().sum()) > 0 and set(update.tensors) == set(model_tensors(ctx.model, WHOLE_MODEL))
    report = client.evaluate(ctx, payload)
    with torch.no_grad():
        logits = ctx.model.head(ctx.model.base(ctx.data.test_x) + bias)
    assert report.correct == int((logits.argmax(1) == ctx.data.test_y).sum())
    assert GLOBAL_MEAN not in payload.tensors and INIT not in payload.values  # kl_weight 0: no init round


def test_feddbe_initialisation_round_fixes_the_global_mean() -> None:
    client, server, _ = halves("feddbe", kl_weight=50.0, momentum=1.0)
    state = server.init(ENV)
    payload = server.broadcast(state)
    assert payload.values[INIT] == 1.0 and GLOBAL_MEAN not in payload.tensors
    ctxs = [context(seed) for seed in (0, 1)]
    updates = []
    for ctx in ctxs:
        client.join(ctx, server.bootstrap(state))
        updates.append(client.fit(ctx, payload))
    assert all(set(u.tensors) == {MEAN} and u.tensors[MEAN].shape == (512,) for u in updates)
    state = server.aggregate(state, updates)
    following = server.broadcast(state)
    assert INIT not in following.values
    assert torch.allclose(following.tensors[GLOBAL_MEAN], (updates[0].tensors[MEAN] + updates[1].tensors[MEAN]) / 2)
    assert all(torch.equal(following.tensors[n], payload.tensors[n]) for n in payload.tensors)  # model unchanged
    update = client.fit(ctxs[0], following)
    assert MEAN not in update.tensors
    state = server.aggregate(state, [update])
    assert torch.equal(server.broadcast(state).tensors[GLOBAL_MEAN], following.tensors[GLOBAL_MEAN])
