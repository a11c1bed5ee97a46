"""Client half of FedGH: take the global head, train with CE, upload class prototypes of the trained model.

The prototypes come from a separate eval-mode pass over the train split after training (FedGH's rule).
"""

from __future__ import annotations

import torch.nn.functional as F

from fedloom.algorithms.base import ClientContext, NoBootstrap
from fedloom.algorithms.fedgh.config import FedGHConfig
from fedloom.algorithms.private_upload import check_privacy_budget
from fedloom.algorithms.shared_head import evaluate_shared_head, receive_head
from fedloom.algorithms.training import model_group, prototype_update, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class FedGHClient(NoBootstrap):
    def __init__(self, config: FedGHConfig) -> None:
        self.config = config

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        check_privacy_budget(ctx)
        receive_head(ctx, payload)
        loss = train_local(ctx, lambda x, y: F.cross_entropy(ctx.model(x), y), [model_group(ctx, fused=True)])
        return prototype_update(ctx, payload.round, loss)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_shared_head(ctx, payload)
