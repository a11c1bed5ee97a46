"""Client half of FD: CE + lam * MSE(logits, G[y]); uploads the per-class mean logits seen during training."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fedloom.algorithms import prototypes as wire_rows
from fedloom.algorithms.base import ClientContext, NoBootstrap
from fedloom.algorithms.fd.config import FDConfig
from fedloom.algorithms.fd.math import logit_distillation
from fedloom.algorithms.fedproto.client import downloaded_table
from fedloom.algorithms.private_upload import check_privacy_budget, class_mean_upload
from fedloom.algorithms.training import ClassMeanAccumulator, evaluate_head, map_in_batches, model_group, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class FDClient(NoBootstrap):
    def __init__(self, config: FDConfig) -> None:
        self.config = config

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        check_privacy_budget(ctx)
        table = downloaded_table(ctx, payload, ctx.num_classes)
        seen = ClassMeanAccumulator(ctx.num_classes, ctx.num_classes, ctx.device)

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            logits = ctx.model(x)
            seen.add(logits, y)
            loss = F.cross_entropy(logits, y)
            if table is not None:
                loss = loss + self.config.lam * logit_distillation(logits, y, *table)
            return loss

        loss = train_local(ctx, loss_fn, [model_group(ctx, fused=True)])
        if ctx.settings.privacy is not None:  # each sample once, from the trained model
            ctx.model.eval()
            logits = map_in_batches(ctx.model, ctx.data.train_x.to(ctx.device), ctx.settings.eval_batch_size)
            return class_mean_upload(ctx, payload.round, loss, logits)
        return ClientUpdate(
            round=payload.round,
            client_id=ctx.client_id,
            num_samples=ctx.data.num_train,
            tensors=wire_rows.pack(*seen.means()),
            values={"loss": loss},
        )

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_head(ctx, payload.round)
