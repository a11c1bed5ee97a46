"""Client half of FML: the local model and the downloaded meme model learn from the data and from each other.

Upload: the meme model's parameters (`shared.*`). Evaluation: the local model's own head.
"""

from __future__ import annotations

import torch

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fml.config import FMLConfig
from fedloom.algorithms.fml.math import mutual_losses
from fedloom.algorithms.model_parts import part_tensors
from fedloom.algorithms.shared_model import SHARED, join_shared_model, receive_shared, shared_update
from fedloom.algorithms.training import ParamGroup, evaluate_head, model_group, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class FMLClient:
    def __init__(self, config: FMLConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        join_shared_model(ctx, bootstrap, ctx.model.feature_dim)

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        cfg = self.config
        meme = receive_shared(ctx, payload)
        meme.train()

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            local, shared = mutual_losses(ctx.model(x), meme(x), y, cfg.alpha, cfg.beta)
            return local + shared

        groups = [model_group(ctx, cfg.clip_norm), ParamGroup(list(meme.parameters()), ctx.settings.lr, cfg.clip_norm)]
        loss = train_local(ctx, loss_fn, groups)
        return shared_update(ctx, payload, part_tensors(meme, SHARED), loss)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_head(ctx, payload.round)
