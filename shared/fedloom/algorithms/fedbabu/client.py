"""Client half of FedBABU: take the global base, train it with cross-entropy through the fixed initial head,
upload the base.

Evaluation: the global base just received with the fixed head (every client's head is the same, so this is
the global model). With the final package (`fine_tune`), the client also fine-tunes a copy of its model,
base and head, for `fine_tuning_epochs` with plain SGD at the run's lr and reports that copy's accuracy as
`finetuned` (`EvalReport.other_correct`); the copy starts from the base the client trained in the last round
(`finetune_from = "local"`, PFLlib's code) or from the global base (`"global"`, the paper).
"""

from __future__ import annotations

import copy
from dataclasses import replace

import torch
import torch.nn.functional as F

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fedbabu.config import FedBABUConfig
from fedloom.algorithms.fedbabu.math import frozen_head_logits
from fedloom.algorithms.fedbabu.server import FINE_TUNE
from fedloom.algorithms.global_model import (
    BASE_ONLY,
    evaluate_received,
    join_global_model,
    linear_head,
    load_model,
    model_tensors,
    model_update,
)
from fedloom.algorithms.training import ParamGroup, evaluate_head, model_group, train_local
from fedloom.models.base import BaseHeadModel
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

FINETUNED = "finetuned"


class FedBABUClient:
    def __init__(self, config: FedBABUConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        join_global_model(ctx, bootstrap, "fedbabu")

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        load_model(ctx.model, payload.tensors, BASE_ONLY)
        base, head = ctx.model.base, linear_head(ctx.model)

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(frozen_head_logits(base(x), head.weight, head.bias), y)

        loss = train_local(ctx, loss_fn, [ParamGroup(list(base.parameters()), ctx.settings.lr, fuse_from=base)])
        return model_update(ctx, payload.round, model_tensors(ctx.model, BASE_ONLY), loss)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        fine_tune = payload.values.get(FINE_TUNE, 0.0) > 0 and self.config.fine_tuning_epochs > 0
        start = copy.deepcopy(ctx.model) if fine_tune and self.config.finetune_from == "local" else None
        report = evaluate_received(ctx, payload, BASE_ONLY)
        if not fine_tune:
            return report
        tuned = self.fine_tuned(ctx, start if start is not None else copy.deepcopy(ctx.model), payload.round)
        return report.model_copy(update={"other_correct": {FINETUNED: tuned.correct}})

    def fine_tuned(self, ctx: ClientContext, model: BaseHeadModel, round_: int) -> EvalReport:
        """Train `model` (a copy: the client's own model stays as it was), base and head, then evaluate it."""
        epochs = self.config.fine_tuning_epochs
        tuned_ctx = replace(ctx, model=model, settings=ctx.settings.model_copy(update={"local_epochs": epochs}))
        train_local(tuned_ctx, lambda x, y: F.cross_entropy(model(x), y), [model_group(tuned_ctx, fused=True)])
        return evaluate_head(tuned_ctx, round_)
