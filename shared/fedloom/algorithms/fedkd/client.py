"""Client half of FedKD: the mentor (own model) and the downloaded mentee teach each other; W_h stays local.

Upload: the mentee's parameters, SVD-compressed with the energy the package names. Evaluation: the mentor.
"""

from __future__ import annotations

import torch

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fedkd.compression import compress, expand
from fedloom.algorithms.fedkd.config import FedKDConfig
from fedloom.algorithms.fedkd.math import adaptive_losses
from fedloom.algorithms.model_parts import load_part, part_shapes, part_tensors, select_part
from fedloom.algorithms.shared_model import SHARED, join_shared_model, seeded_linear, shared_update
from fedloom.algorithms.training import ParamGroup, evaluate_head, model_group, train_local
from fedloom.errors import WireError
from fedloom.models.base import BaseHeadModel
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

ENERGY = "energy"


def package_energy(payload: GlobalPayload) -> float:
    energy = payload.values.get(ENERGY)
    if energy is None or not 0 < energy <= 1:
        raise WireError(f"a FedKD package names the SVD energy in (0, 1] as {ENERGY!r}, got {energy}")
    return energy


def receive_mentee(ctx: ClientContext, payload: GlobalPayload) -> BaseHeadModel:
    mentee: BaseHeadModel = ctx.state["shared"]
    params = expand(select_part(payload.tensors, SHARED), part_shapes(mentee, SHARED))
    load_part(mentee, params, SHARED)
    return mentee


class FedKDClient:
    def __init__(self, config: FedKDConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        join_shared_model(ctx, bootstrap, ctx.model.feature_dim)
        dim = ctx.model.feature_dim
        ctx.state["w_h"] = seeded_linear(ctx.rng, dim, dim, bias=False).to(ctx.device)

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        cfg, energy = self.config, package_energy(payload)
        mentee, w_h = receive_mentee(ctx, payload), ctx.state["w_h"]
        mentee.train()

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            f, f_g = ctx.model.base(x), mentee.base(x)
            mentor_loss, mentee_loss = adaptive_losses(ctx.model.head(f), mentee.head(f_g), f, w_h(f_g), y)
            return mentor_loss + mentee_loss

        groups = [
            model_group(ctx, cfg.clip_norm),
            ParamGroup(list(mentee.parameters()), cfg.mentee_lr, cfg.clip_norm),
            ParamGroup(list(w_h.parameters()), ctx.settings.lr, cfg.clip_norm),
        ]
        loss = train_local(ctx, loss_fn, groups)
        return shared_update(ctx, payload, compress(part_tensors(mentee, SHARED), energy), loss)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_head(ctx, payload.round)
