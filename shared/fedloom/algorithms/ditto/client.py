"""Client half of Ditto: two models, the global w (`ctx.model`) and the personal v (`ctx.state["personal"]`).

A round: receive w; train v for `personal_epochs` with v <- v - lr (grad CE(v) + mu (v - w)), w the model just
received; then train w with plain SGD for the run's local epochs and upload it (PFLlib's order).
v starts as a copy of the first global model the client receives (PFLlib: of the common initial model).

Evaluation: the personal model v (the client's model, Ditto's result); the global model w just received is
evaluated too and reported as `global` (`EvalReport.other_correct`). PFLlib mixes both into one list and
reports the better one.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.ditto.config import DittoConfig
from fedloom.algorithms.ditto.math import perturbed_gradients
from fedloom.algorithms.global_model import WHOLE_MODEL, join_global_model, load_model, model_tensors, model_update
from fedloom.algorithms.training import ParamGroup, evaluate_head, model_group, train_local
from fedloom.models.base import BaseHeadModel
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

PERSONAL, GLOBAL = "personal", "global"


class PerturbedGroup(ParamGroup):
    """Plain SGD on `params` with Ditto's pull towards `anchors` (the global model's tensors, same order)."""

    def __init__(self, params: Sequence[nn.Parameter], anchors: Sequence[torch.Tensor], lr: float, mu: float) -> None:
        super().__init__(params, lr)
        self.anchors, self.mu = [a.detach() for a in anchors], mu
        if len(self.anchors) != len(self.stepped):
            raise ValueError("one anchor per trainable parameter")

    @torch.no_grad()
    def step(self) -> None:
        pairs = [(p, a) for p, a in zip(self.stepped, self.anchors, strict=True) if p.grad is not None]
        params: list[torch.Tensor] = [p for p, _ in pairs]
        anchors = [a for _, a in pairs]
        grads = [p.grad for p in params if p.grad is not None]
        if params:
            torch._foreach_add_(params, perturbed_gradients(grads, params, anchors, self.mu), alpha=-self.lr)


def personal_model(ctx: ClientContext) -> BaseHeadModel:
    """The client's personal model, created as a copy of `ctx.model` (the global model it holds) on first use."""
    if PERSONAL not in ctx.state:
        ctx.state[PERSONAL] = copy.deepcopy(ctx.model)
    model: BaseHeadModel = ctx.state[PERSONAL]
    return model


class DittoClient:
    def __init__(self, config: DittoConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        join_global_model(ctx, bootstrap, "ditto")

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        load_model(ctx.model, payload.tensors, WHOLE_MODEL)
        self.train_personal(ctx)
        loss = train_local(ctx, lambda x, y: F.cross_entropy(ctx.model(x), y), [model_group(ctx, fused=True)])
        return model_update(ctx, payload.round, model_tensors(ctx.model, WHOLE_MODEL), loss)

    def train_personal(self, ctx: ClientContext) -> float:
        personal = personal_model(ctx)
        epochs = self.config.personal_epochs
        personal_ctx = replace(ctx, model=personal, settings=ctx.settings.model_copy(update={"local_epochs": epochs}))
        anchors = list(ctx.model.parameters())
        group = PerturbedGroup(list(personal.parameters()), anchors, ctx.settings.lr, self.config.mu)
        return train_local(personal_ctx, lambda x, y: F.cross_entropy(personal(x), y), [group])

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        load_model(ctx.model, payload.tensors, WHOLE_MODEL)
        global_report = evaluate_head(ctx, payload.round)
        report = evaluate_head(replace(ctx, model=personal_model(ctx)), payload.round)
        return report.model_copy(update={"other_correct": {GLOBAL: global_report.correct}})
