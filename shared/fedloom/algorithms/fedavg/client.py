"""Client half of FedAvg: take the global model, train it with cross-entropy, upload all its parameters.

Evaluation: the global model just received (PFLlib's FedAvg figure is this global model's accuracy)."""

from __future__ import annotations

import torch.nn.functional as F

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fedavg.config import FedAvgConfig
from fedloom.algorithms.global_model import (
    WHOLE_MODEL,
    evaluate_received,
    join_global_model,
    load_model,
    model_tensors,
    model_update,
)
from fedloom.algorithms.training import model_group, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class FedAvgClient:
    def __init__(self, config: FedAvgConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        join_global_model(ctx, bootstrap, "fedavg")

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        load_model(ctx.model, payload.tensors, WHOLE_MODEL)
        loss = train_local(ctx, lambda x, y: F.cross_entropy(ctx.model(x), y), [model_group(ctx, fused=True)])
        return model_update(ctx, payload.round, model_tensors(ctx.model, WHOLE_MODEL), loss)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_received(ctx, payload, WHOLE_MODEL)
