"""Server half of LG-FedAvg: the train-sample-weighted mean of the uploaded heads, pushed to all clients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.lg.config import LGConfig
from fedloom.algorithms.shared_head import (
    average_heads,
    head_tensors,
    init_global_head,
    linear_head_shapes,
    set_head,
)
from fedloom.wire import ClientUpdate, GlobalPayload


@dataclass
class LGState:
    round: int
    env: ServerEnv
    head: nn.Linear


class LGServer:
    def __init__(self, config: LGConfig) -> None:
        self.config = config

    def init(self, env: ServerEnv) -> LGState:
        return LGState(round=0, env=env, head=init_global_head(env))

    def bootstrap(self, state: LGState) -> GlobalPayload:
        return GlobalPayload(round=state.round)

    def broadcast(self, state: LGState) -> GlobalPayload:
        return GlobalPayload(round=state.round, tensors=head_tensors(state.head))

    def aggregate(self, state: LGState, updates: Sequence[ClientUpdate]) -> LGState:
        if updates:
            expected = linear_head_shapes(state.env.num_classes, state.env.feature_dim)
            set_head(state.head, average_heads(updates, expected))
        state.round += 1
        return state
