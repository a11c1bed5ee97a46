"""Server half of FedL2G: the guiding vectors V take one clipped SGD step on the clients' mean gradients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from fedloom.algorithms import prototypes as wire_rows
from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedl2g.client import GUIDES, guide_width
from fedloom.algorithms.fedl2g.config import FedL2GConfig
from fedloom.algorithms.fedl2g.math import guide_step, mean_class_gradients
from fedloom.errors import WireError
from fedloom.wire import ClientUpdate, GlobalPayload


def check_guide_gradients(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """Gradient rows of width K ("feat") or C ("logit"): the door cannot see the variant, the server can."""
    for width in dict.fromkeys((feature_dim, num_classes)):
        try:
            wire_rows.unpack(update.tensors, num_classes, width)
            return
        except WireError as exc:
            problem = exc
    raise problem


@dataclass
class FedL2GState:
    round: int
    env: ServerEnv
    guides: torch.Tensor
    grad_norm: float = 0.0


class FedL2GServer:
    def __init__(self, config: FedL2GConfig) -> None:
        self.config = config

    def init(self, env: ServerEnv) -> FedL2GState:
        width = guide_width(self.config, env.num_classes, env.feature_dim)
        guides = torch.randn(env.num_classes, width, generator=torch.Generator().manual_seed(env.seed))
        return FedL2GState(round=0, env=env, guides=guides)

    def bootstrap(self, state: FedL2GState) -> GlobalPayload:
        return GlobalPayload(round=state.round)

    def broadcast(self, state: FedL2GState) -> GlobalPayload:
        return GlobalPayload(round=state.round, tensors={GUIDES: state.guides}, values={"grad_norm": state.grad_norm})

    def aggregate(self, state: FedL2GState, updates: Sequence[ClientUpdate]) -> FedL2GState:
        env, cfg = state.env, self.config
        labels, rows = wire_rows.stack_uploads(updates, env.num_classes, state.guides.shape[1])
        if updates:
            grad = mean_class_gradients(labels, rows, env.num_classes)
            state.grad_norm = float(grad.norm())
            state.guides = guide_step(state.guides, grad, cfg.server_lr, cfg.clip_norm)
        state.round += 1
        return state
