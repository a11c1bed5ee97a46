"""Client half of FedPer: take the global base, train base and own head together (one SGD), upload the base.

Evaluation: the global base just received with the client's own head."""

from __future__ import annotations

import torch.nn.functional as F

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fedper.config import FedPerConfig
from fedloom.algorithms.fedper.math import split_base_head
from fedloom.algorithms.global_model import (
    BASE_ONLY,
    WHOLE_MODEL,
    evaluate_received,
    join_global_model,
    load_model,
    model_tensors,
    model_update,
)
from fedloom.algorithms.training import model_group, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class FedPerClient:
    def __init__(self, config: FedPerConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        join_global_model(ctx, bootstrap, "fedper")

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        load_model(ctx.model, payload.tensors, BASE_ONLY)
        loss = train_local(ctx, lambda x, y: F.cross_entropy(ctx.model(x), y), [model_group(ctx, fused=True)])
        base, _ = split_base_head(model_tensors(ctx.model, WHOLE_MODEL))
        return model_update(ctx, payload.round, base, loss)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_received(ctx, payload, BASE_ONLY)
