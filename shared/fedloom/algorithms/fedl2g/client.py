"""Client half of FedL2G: after warm-up, train with CE + MSE(h, V[y]); every round, the meta step on V.

The first `quiz_batches * B` train samples are a quiz set that never trains the model (at most half
of a small client's samples). The upload is dQuiz/dV for the classes with a non-zero row, in the
prototype layout (`classes` [n], `prototypes` [n, D], the rows being gradients).
"""

from __future__ import annotations

from dataclasses import replace

import torch

from fedloom.algorithms import prototypes as wire_rows
from fedloom.algorithms.base import ClientContext, NoBootstrap
from fedloom.algorithms.fedl2g.config import FedL2GConfig
from fedloom.algorithms.fedl2g.math import Batch, guided_loss, meta_guide_gradient
from fedloom.algorithms.training import evaluate_head, model_group, shuffled_batches, train_local
from fedloom.errors import WireError
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

GUIDES = "guides"


def guide_width(config: FedL2GConfig, num_classes: int, feature_dim: int) -> int:
    return num_classes if config.variant == "logit" else feature_dim


def received_guides(ctx: ClientContext, payload: GlobalPayload, width: int) -> torch.Tensor:
    guides = payload.tensors.get(GUIDES)
    if guides is None or guides.dtype != torch.float32 or tuple(guides.shape) != (ctx.num_classes, width):
        raise WireError(f"the FedL2G package needs '{GUIDES}' float32 [{ctx.num_classes}, {width}]")
    return guides.to(ctx.device)


class FedL2GClient(NoBootstrap):
    def __init__(self, config: FedL2GConfig) -> None:
        self.config = config

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        cfg = self.config
        guides = received_guides(ctx, payload, guide_width(cfg, ctx.num_classes, ctx.model.feature_dim))
        quiz_size = min(cfg.quiz_batches * ctx.settings.batch_size, ctx.data.num_train // 2)
        data = ctx.data
        study_ctx = replace(ctx, data=replace(data, train_x=data.train_x[quiz_size:], train_y=data.train_y[quiz_size:]))
        values = {}
        if payload.round >= cfg.warmup_rounds:
            values["loss"] = train_local(
                study_ctx, lambda x, y: self.objective(ctx, guides, x, y), [model_group(ctx, cfg.clip_norm)]
            )
        grad, values["quiz_loss"] = self.meta_study(ctx, guides, quiz_size)
        classes = torch.nonzero(grad.abs().sum(1) > 0).flatten()
        return ClientUpdate(
            round=payload.round,
            client_id=ctx.client_id,
            num_samples=ctx.data.num_train,
            tensors=wire_rows.pack(classes, grad[classes]),
            values=values,
        )

    def objective(self, ctx: ClientContext, guides: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        features = ctx.model.base(x)
        logits = ctx.model.head(features)
        return guided_loss(logits, logits if self.config.variant == "logit" else features, y, guides)

    def meta_study(self, ctx: ClientContext, guides: torch.Tensor, quiz_size: int) -> tuple[torch.Tensor, float]:
        """Draw the study and quiz batches (seeded) and take dQuiz/dV on the current model."""
        cfg, batch = self.config, ctx.settings.batch_size
        x, y = ctx.data.train_x.to(ctx.device), ctx.data.train_y.to(ctx.device)
        study_idx = list(shuffled_batches(ctx.data.num_train - quiz_size, batch, ctx.rng))[: cfg.study_batches]
        quiz_idx = list(shuffled_batches(quiz_size, batch, ctx.rng))[: cfg.quiz_batches] if quiz_size else []
        study: list[Batch] = [(x[quiz_size + i], y[quiz_size + i]) for i in study_idx]
        quiz: list[Batch] = [(x[i], y[i]) for i in quiz_idx] or study
        ctx.model.train()
        return meta_guide_gradient(ctx.model, study, quiz, guides, ctx.settings.lr, self.config.variant == "logit")

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_head(ctx, payload.round)
