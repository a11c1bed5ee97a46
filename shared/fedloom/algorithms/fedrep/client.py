"""Client half of FedRep: take the global base; train the own head alone (`head_epochs`), then the base
alone (the run's local epochs), each phase its own plain SGD at the run's lr; upload the base.

Evaluation: the global base just received with the client's own head."""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fedrep.config import FedRepConfig
from fedloom.algorithms.fedrep.math import head_phase_logits, representation_phase_logits
from fedloom.algorithms.global_model import (
    BASE_ONLY,
    evaluate_received,
    join_global_model,
    linear_head,
    load_model,
    model_tensors,
    model_update,
)
from fedloom.algorithms.training import ParamGroup, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class FedRepClient:
    def __init__(self, config: FedRepConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        join_global_model(ctx, bootstrap, "fedrep")

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        load_model(ctx.model, payload.tensors, BASE_ONLY)
        self.train_head(ctx)
        loss = self.train_base(ctx)
        return model_update(ctx, payload.round, model_tensors(ctx.model, BASE_ONLY), loss)

    def train_head(self, ctx: ClientContext) -> float:
        """The head phase: the base's features need no gradient, so they are computed without one."""
        base, head = ctx.model.base, linear_head(ctx.model)

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                features = base(x)
            return F.cross_entropy(head_phase_logits(features, head.weight, head.bias), y)

        head_ctx = replace(ctx, settings=ctx.settings.model_copy(update={"local_epochs": self.config.head_epochs}))
        return train_local(head_ctx, loss_fn, [ParamGroup(list(head.parameters()), ctx.settings.lr)])

    def train_base(self, ctx: ClientContext) -> float:
        base, head = ctx.model.base, linear_head(ctx.model)

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(representation_phase_logits(base(x), head.weight, head.bias), y)

        return train_local(ctx, loss_fn, [ParamGroup(list(base.parameters()), ctx.settings.lr, fuse_from=base)])

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_received(ctx, payload, BASE_ONLY)
