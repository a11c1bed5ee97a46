"""Client half of Local: cross-entropy on the client's own data, nothing uploaded."""

from __future__ import annotations

import torch.nn.functional as F

from fedloom.algorithms.base import ClientContext, NoBootstrap
from fedloom.algorithms.local.config import LocalConfig
from fedloom.algorithms.training import evaluate_head, model_group, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class LocalClient(NoBootstrap):
    def __init__(self, config: LocalConfig) -> None:
        self.config = config

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        loss = train_local(ctx, lambda x, y: F.cross_entropy(ctx.model(x), y), [model_group(ctx, fused=True)])
        return ClientUpdate(
            round=payload.round,
            client_id=ctx.client_id,
            num_samples=ctx.data.num_train,
            values={"loss": loss},
        )

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_head(ctx, payload.round)
