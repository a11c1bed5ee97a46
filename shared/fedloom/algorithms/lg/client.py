"""Client half of LG-FedAvg: take the global head, train the whole model with CE, upload the head."""

from __future__ import annotations

import torch.nn.functional as F

from fedloom.algorithms.base import ClientContext, NoBootstrap
from fedloom.algorithms.lg.config import LGConfig
from fedloom.algorithms.shared_head import evaluate_shared_head, head_tensors, receive_head
from fedloom.algorithms.training import model_group, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class LGClient(NoBootstrap):
    def __init__(self, config: LGConfig) -> None:
        self.config = config

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        receive_head(ctx, payload)
        loss = train_local(ctx, lambda x, y: F.cross_entropy(ctx.model(x), y), [model_group(ctx, fused=True)])
        return ClientUpdate(
            round=payload.round,
            client_id=ctx.client_id,
            num_samples=ctx.data.num_train,
            tensors=head_tensors(ctx.model.head),
            values={"loss": loss},
        )

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_shared_head(ctx, payload)
