"""Client half of FedDBE: FedAvg's model plus a personal representation bias b, and mean regularisation.

A round (pfl_algorithms.md 11): take the global model, reset the running mean mu_r to 0, then per batch
r = base(x), mu_r <- (1 - m) mu_r + m mean(r) (in the graph for this step only),
loss = CE(head(r + b), y) + kappa mean(0.5 (mu_r - mu_g)^2); one SGD step on the model and on b (same lr).
Upload the whole model; b never leaves the client. In the initialisation round (`feddbe_init`, only with
kappa > 0) the client trains plain CE on head(base(x)) and uploads mu_r instead.
Evaluation: head(base(x) + b) with the global model just received.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.feddbe.config import FedDBEConfig
from fedloom.algorithms.feddbe.math import mean_regulariser, running_mean
from fedloom.algorithms.feddbe.server import GLOBAL_MEAN, INIT, MEAN
from fedloom.algorithms.global_model import WHOLE_MODEL, join_global_model, load_model, model_tensors, model_update
from fedloom.algorithms.training import ParamGroup, map_in_batches, model_group, report_accuracy, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

BIAS = "feddbe"


class RepresentationBias(nn.Module):
    """The PRBM: one trainable vector added to every feature, zeros at first."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(dim))


class FedDBEClient:
    def __init__(self, config: FedDBEConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        join_global_model(ctx, bootstrap, "feddbe")
        ctx.state[BIAS] = RepresentationBias(ctx.model.feature_dim).to(ctx.device)

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        load_model(ctx.model, payload.tensors, WHOLE_MODEL)
        initialising = payload.values.get(INIT, 0.0) > 0
        mu_g = payload.tensors.get(GLOBAL_MEAN)
        track: dict[str, Tensor] = {"mu_r": torch.zeros(ctx.model.feature_dim, device=ctx.device)}
        bias = None if initialising else ctx.state[BIAS].bias
        loss_fn = self.loss_fn(ctx, track, bias, None if mu_g is None else mu_g.to(ctx.device))
        groups = [model_group(ctx, fused=True)] + ([] if bias is None else [ParamGroup([bias], ctx.settings.lr)])
        loss = train_local(ctx, loss_fn, groups)
        if initialising:
            tensors = {MEAN: track["mu_r"].detach().float().cpu().clone()}
            return model_update(ctx, payload.round, tensors, loss)
        return model_update(ctx, payload.round, model_tensors(ctx.model, WHOLE_MODEL), loss)

    def loss_fn(self, ctx: ClientContext, track: dict[str, Tensor], bias: Tensor | None, mu_g: Tensor | None) -> Any:
        model, momentum, kappa = ctx.model, self.config.momentum, self.config.kl_weight

        def loss(x: Tensor, y: Tensor) -> Tensor:
            r = model.base(x)
            mu_r = running_mean(track["mu_r"], r, momentum)
            track["mu_r"] = mu_r.detach()
            value = F.cross_entropy(model.head(r if bias is None else r + bias), y)
            if mu_g is not None and kappa > 0:
                value = value + kappa * mean_regulariser(mu_r, mu_g)
            return value

        return loss

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        load_model(ctx.model, payload.tensors, WHOLE_MODEL)
        model, bias = ctx.model, ctx.state[BIAS].bias.detach()
        model.eval()
        logits = map_in_batches(
            lambda x: model.head(model.base(x) + bias), ctx.data.test_x.to(ctx.device), ctx.settings.eval_batch_size
        )
        return report_accuracy(ctx, payload.round, logits.argmax(dim=1))
