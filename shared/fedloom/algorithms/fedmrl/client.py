"""Client half of FedMRL: the shared small model and the client's own model, fused by a local projection.

The projection stays on the client and is kept across rounds (HtFLlib reset it every round, algorithms.md
7). Upload: the shared model's parameters. Evaluation: the own head on the fused representation, which
needs the shared model of the package being evaluated.
"""

from __future__ import annotations

import torch

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fedmrl.config import FedMRLConfig
from fedloom.algorithms.fedmrl.math import fuse, matryoshka_loss
from fedloom.algorithms.model_parts import part_tensors
from fedloom.algorithms.shared_model import SHARED, join_shared_model, receive_shared, seeded_linear, shared_update
from fedloom.algorithms.training import ParamGroup, map_in_batches, model_group, report_accuracy, train_local
from fedloom.errors import ConfigError
from fedloom.models.base import BaseHeadModel
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


def representation(ctx: ClientContext, shared: BaseHeadModel, x: torch.Tensor) -> torch.Tensor:
    proj: torch.nn.Linear = ctx.state["proj"]
    return fuse(shared.base(x), ctx.model.base(x), proj.weight, proj.bias)


class FedMRLClient:
    def __init__(self, config: FedMRLConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        d, k = self.config.shared_feature_dim, ctx.model.feature_dim
        if d > k:
            raise ConfigError(f"FedMRL's shared_feature_dim {d} must not exceed the clients' feature_dim {k}")
        join_shared_model(ctx, bootstrap, d)
        ctx.state["proj"] = seeded_linear(ctx.rng, d + k, k).to(ctx.device)

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        d, shared = self.config.shared_feature_dim, receive_shared(ctx, payload)
        shared.train()

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            r = representation(ctx, shared, x)
            return matryoshka_loss(ctx.model.head(r), shared.head(r[:, :d]), y)

        lr = ctx.settings.lr
        groups = [
            model_group(ctx, fused=True),
            ParamGroup(list(ctx.state["proj"].parameters()), lr),
            ParamGroup(list(shared.parameters()), lr),
        ]
        loss = train_local(ctx, loss_fn, groups)
        return shared_update(ctx, payload, part_tensors(shared, SHARED), loss)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        shared = receive_shared(ctx, payload)
        ctx.model.eval()
        shared.eval()

        def predict(x: torch.Tensor) -> torch.Tensor:
            return ctx.model.head(representation(ctx, shared, x))

        logits = map_in_batches(predict, ctx.data.test_x.to(ctx.device), ctx.settings.eval_batch_size)
        return report_accuracy(ctx, payload.round, logits.argmax(dim=1))
