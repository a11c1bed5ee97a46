"""The client halves of FedPer, FedRep, FedBABU and Ditto: which parameters each phase moves, what `evaluate`
loads before it measures, FedBABU's final fine-tuning and Ditto's perturbed step."""

import copy
from dataclasses import replace
from typing import Any

import pytest
import torch
from torch import nn

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ClientContext, ServerEnv, TrainSettings
from fedloom.algorithms.ditto.client import PERSONAL, PerturbedGroup
from fedloom.algorithms.fedbabu.server import FINE_TUNE
from fedloom.algorithms.global_model import BASE_ONLY, model_tensors
from fedloom.algorithms.training import evaluate_head
from fedloom.data.types import ClientData
from fedloom.models import build_model
from fedloom.wire import GlobalPayload

SHAPE, C = (1, 28, 28), 10
ENV = ServerEnv(C, 512, TrainSettings(), seed=0, input_shape=SHAPE, reference_arch="cnn4", rounds=2)


def context(seed: int = 0) -> ClientContext:
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.rand(40, *SHAPE, generator=gen), torch.arange(40) % 3
    data = ClientData(client_id=0, train_x=x, train_y=y, test_x=x[:20], test_y=y[:20])
    torch.manual_seed(seed)
    model = build_model("cnn4", SHAPE, C)
    settings = TrainSettings(batch_size=10, lr=0.05)
    return ClientContext(0, model, data, C, settings, torch.Generator().manual_seed(seed))


def halves(name: str, **options: object) -> tuple[Any, Any, GlobalPayload]:
    """(client half, server half, the server's first package); `Any`: each test calls its algorithm's own methods."""
    spec = get_algorithm(name)
    config = make_config(spec, options)
    server = spec.make_server(config)
    return spec.make_client(config), server, server.broadcast(server.init(ENV))


def same(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("name", ["fedper", "fedrep", "fedbabu"])
def test_evaluation_uses_the_received_base_and_the_own_head(name: str) -> None:
    client, _, payload = halves(name)
    ctx = context()
    head = copy.deepcopy(ctx.model.head)
    report = client.evaluate(ctx, payload)
    assert all(torch.equal(t, payload.tensors[n]) for n, t in model_tensors(ctx.model, BASE_ONLY).items())
    assert same(ctx.model.head, head)
    assert report.correct == evaluate_head(ctx, payload.round).correct and report.total == 20


def test_fedrep_head_phase_moves_only_the_head_and_base_phase_only_the_base() -> None:
    client, _, _ = halves("fedrep")
    ctx = context()
    before = copy.deepcopy(ctx.model)
    client.train_head(ctx)
    assert same(ctx.model.base, before.base) and not same(ctx.model.head, before.head)
    after_head = copy.deepcopy(ctx.model)
    client.train_base(ctx)
    assert same(ctx.model.head, after_head.head) and not same(ctx.model.base, after_head.base)


def test_fedbabu_never_moves_the_head_and_fine_tunes_a_copy_at_the_end() -> None:
    client, server, payload = halves("fedbabu", fine_tuning_epochs=2)
    ctx = context()
    head = copy.deepcopy(ctx.model.head)
    update = client.fit(ctx, payload)
    assert same(ctx.model.head, head) and all(name.startswith("base.") for name in update.tensors)
    assert "finetuned" not in client.evaluate(ctx, payload).other_correct
    final = GlobalPayload(round=2, tensors=payload.tensors, values={FINE_TUNE: 1.0})
    report = client.evaluate(ctx, final)
    assert report.other_correct["finetuned"] > report.correct  # 3 classes of noise: memorised once tuned
    assert same(ctx.model.head, head)  # the fine-tuned copy is not the client's model


def test_fedbabu_fine_tuning_starts_from_the_local_or_the_global_base() -> None:
    # with a vanishing learning rate the fine-tuned copy keeps the accuracy of where it started
    for start in ("local", "global"):
        client, _, payload = halves("fedbabu", fine_tuning_epochs=1, finetune_from=start)
        ctx = context()
        client.fit(ctx, payload)
        local = evaluate_head(ctx, 1).correct
        ctx.settings = TrainSettings(batch_size=10, lr=1e-30)
        package = GlobalPayload(round=1, tensors=payload.tensors, values={FINE_TUNE: 1.0})
        report = client.evaluate(ctx, package)
        assert report.other_correct["finetuned"] == (local if start == "local" else report.correct)
        assert local != report.correct  # the test tells the two starts apart


def test_ditto_perturbed_step_by_hand() -> None:
    # v <- v - lr (g + mu (v - w)); lr = 0.5, mu = 2: lr * mu = 1, so v <- w - lr g = [1, 1] - 0.5 [2, -2]
    v = nn.Parameter(torch.tensor([5.0, -3.0]))
    v.grad = torch.tensor([2.0, -2.0])
    group = PerturbedGroup([v], [torch.tensor([1.0, 1.0])], lr=0.5, mu=2.0)
    group.step()
    assert torch.equal(v.detach(), torch.tensor([0.0, 2.0]))


def test_ditto_keeps_a_personal_model_and_uploads_the_global_one() -> None:
    client, _, payload = halves("ditto", mu=0.1)
    ctx = context()
    update = client.fit(ctx, payload)
    personal = ctx.state[PERSONAL]
    assert not same(personal, ctx.model)
    assert all(torch.equal(t, update.tensors[n]) for n, t in model_tensors(ctx.model, ("base.", "head.")).items())
    report = client.evaluate(ctx, payload)
    assert report.correct == evaluate_head(replace(ctx, model=personal), 0).correct
    assert report.other_correct["global"] == evaluate_head(ctx, 0).correct  # ctx.model now holds the package
