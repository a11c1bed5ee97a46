"""Client half of FedProto: CE + lam * MSE to global prototypes; uploads per-class mean features.

The uploaded prototypes are the means of the features produced during training (FedProto's rule).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fedloom.algorithms import prototypes as wire_protos
from fedloom.algorithms.base import ClientContext, NoBootstrap
from fedloom.algorithms.fedproto.config import FedProtoConfig
from fedloom.algorithms.fedproto.math import complete_or_mask, nearest_prototype, prototype_regulariser
from fedloom.algorithms.private_upload import check_privacy_budget, class_mean_upload
from fedloom.algorithms.training import ClassMeanAccumulator, features_of, model_group, report_accuracy, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


def downloaded_table(
    ctx: ClientContext, payload: GlobalPayload, dim: int
) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    """The downloaded per-class rows as a dense [C, dim] table and mask (None: every class present) on the
    client's device, or None before the server has any."""
    if wire_protos.CLASSES not in payload.tensors:
        return None
    classes, rows = wire_protos.unpack(payload.tensors, ctx.num_classes, dim)
    table, mask = wire_protos.dense(classes, rows, ctx.num_classes)
    present = complete_or_mask(mask)
    return table.to(ctx.device), None if present is None else present.to(ctx.device)


def global_table(ctx: ClientContext, payload: GlobalPayload) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    """The downloaded global prototypes [C, K], see `downloaded_table`."""
    return downloaded_table(ctx, payload, ctx.model.feature_dim)


def prototype_objective(
    ctx: ClientContext,
    table: tuple[torch.Tensor, torch.Tensor | None] | None,
    lam: float,
    f: torch.Tensor,
    y: torch.Tensor,
) -> torch.Tensor:
    """CE(head(f), y) + lam * regulariser(f, P[y]); plain CE before any prototype exists."""
    loss = F.cross_entropy(ctx.model.head(f), y)
    if table is not None:
        loss = loss + lam * prototype_regulariser(f, y, *table)
    return loss


def evaluate_nearest(ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
    """Accuracy of nearest-global-prototype inference (0 correct before any prototype exists)."""
    table = global_table(ctx, payload)
    if table is None:
        return report_accuracy(ctx, payload.round, torch.full_like(ctx.data.test_y, -1))
    predictions = nearest_prototype(features_of(ctx, ctx.data.test_x), *table)
    return report_accuracy(ctx, payload.round, predictions)


class FedProtoClient(NoBootstrap):
    def __init__(self, config: FedProtoConfig) -> None:
        self.config = config

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        check_privacy_budget(ctx)
        table = global_table(ctx, payload)
        seen = ClassMeanAccumulator(ctx.num_classes, ctx.model.feature_dim, ctx.device)

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            f = ctx.model.base(x)
            seen.add(f, y)
            return prototype_objective(ctx, table, self.config.lam, f, y)

        loss = train_local(ctx, loss_fn, [model_group(ctx, fused=True)])
        if ctx.settings.privacy is not None:  # each sample once, from the trained model
            return class_mean_upload(ctx, payload.round, loss, features_of(ctx, ctx.data.train_x))
        present, means = seen.means()
        return ClientUpdate(
            round=payload.round,
            client_id=ctx.client_id,
            num_samples=ctx.data.num_train,
            tensors=wire_protos.pack(present, means),
            values={"loss": loss},
        )

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_nearest(ctx, payload)
