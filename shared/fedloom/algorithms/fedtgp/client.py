"""Client half of FedTGP: FedProto's loss against the trainable global prototypes.

Prototypes are collected after training, from the trained model in eval mode (HtFLlib collected them
from the model of the round's start: algorithms.md section 7).
"""

from __future__ import annotations

import torch

from fedloom.algorithms.base import ClientContext, NoBootstrap
from fedloom.algorithms.fedproto.client import evaluate_nearest, global_table, prototype_objective
from fedloom.algorithms.fedtgp.config import FedTGPConfig
from fedloom.algorithms.private_upload import check_privacy_budget
from fedloom.algorithms.training import model_group, prototype_update, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class FedTGPClient(NoBootstrap):
    def __init__(self, config: FedTGPConfig) -> None:
        self.config = config

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        check_privacy_budget(ctx)
        table = global_table(ctx, payload)

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return prototype_objective(ctx, table, self.config.lam, ctx.model.base(x), y)

        loss = train_local(ctx, loss_fn, [model_group(ctx, fused=True)])
        return prototype_update(ctx, payload.round, loss)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_nearest(ctx, payload)
