"""Client half of FedGH: take the global head, train with CE, upload class prototypes of the trained model.

The prototypes come from a separate eval-mode pass over the train split after training (FedGH's rule).
"""

from __future__ import annotations

import torch.nn.functional as F

from fedloom.algorithms import prototypes as wire_protos
from fedloom.algorithms.base import ClientContext, NoBootstrap
from fedloom.algorithms.fedgh.config import FedGHConfig
from fedloom.algorithms.shared_head import evaluate_shared_head, receive_head
from fedloom.algorithms.training import class_means, features_of, model_group, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class FedGHClient(NoBootstrap):
    def __init__(self, config: FedGHConfig) -> None:
        self.config = config

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        receive_head(ctx, payload)
        loss = train_local(ctx, lambda x, y: F.cross_entropy(ctx.model(x), y), [model_group(ctx)])
        features = features_of(ctx, ctx.data.train_x)
        classes, means = class_means(features, ctx.data.train_y.to(ctx.device), ctx.num_classes)
        return ClientUpdate(
            round=payload.round,
            client_id=ctx.client_id,
            num_samples=ctx.data.num_train,
            tensors=wire_protos.pack(classes, means),
            values={"loss": loss},
        )

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_shared_head(ctx, payload)
