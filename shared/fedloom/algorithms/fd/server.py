"""Server half of FD: per class, the unweighted mean over clients of their mean logits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from fedloom.algorithms import prototypes as wire_rows
from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fd.config import FDConfig
from fedloom.algorithms.fd.math import average_class_logits
from fedloom.wire import ClientUpdate, GlobalPayload


def check_class_logits(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """An upload of per-class mean logits: `classes` [n] and rows [n, C] in the prototype layout."""
    wire_rows.unpack(update.tensors, num_classes, num_classes)


@dataclass(frozen=True)
class FDState:
    round: int
    num_classes: int
    classes: torch.Tensor | None = None
    logits: torch.Tensor | None = None


class FDServer:
    def __init__(self, config: FDConfig) -> None:
        self.config = config

    def init(self, env: ServerEnv) -> FDState:
        return FDState(round=0, num_classes=env.num_classes)

    def bootstrap(self, state: FDState) -> GlobalPayload:
        return GlobalPayload(round=state.round)

    def broadcast(self, state: FDState) -> GlobalPayload:
        if state.classes is None or state.logits is None:
            return GlobalPayload(round=state.round)
        return GlobalPayload(round=state.round, tensors=wire_rows.pack(state.classes, state.logits))

    def aggregate(self, state: FDState, updates: Sequence[ClientUpdate]) -> FDState:
        labels, rows = wire_rows.stack_uploads(updates, state.num_classes, state.num_classes)
        if labels.numel() == 0:
            return replace(state, round=state.round + 1)
        classes, means = average_class_logits(labels, rows, state.num_classes)
        return replace(state, round=state.round + 1, classes=classes, logits=means)
