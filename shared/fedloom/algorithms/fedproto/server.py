"""Server half of FedProto: the unweighted per-class mean of the uploaded prototypes; for private uploads
(which carry noisy counts) the count-weighted mean (`math.count_weighted_prototypes`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from fedloom.algorithms import prototypes as wire_protos
from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedproto.config import FedProtoConfig
from fedloom.algorithms.fedproto.math import average_prototypes, count_weighted_prototypes
from fedloom.wire import ClientUpdate, GlobalPayload


@dataclass(frozen=True)
class FedProtoState:
    round: int
    num_classes: int
    feature_dim: int
    classes: torch.Tensor | None = None
    prototypes: torch.Tensor | None = None


class FedProtoServer:
    def __init__(self, config: FedProtoConfig) -> None:
        self.config = config

    def init(self, env: ServerEnv) -> FedProtoState:
        return FedProtoState(round=0, num_classes=env.num_classes, feature_dim=env.feature_dim)

    def bootstrap(self, state: FedProtoState) -> GlobalPayload:
        return GlobalPayload(round=state.round)

    def broadcast(self, state: FedProtoState) -> GlobalPayload:
        if state.classes is None or state.prototypes is None:
            return GlobalPayload(round=state.round)
        return GlobalPayload(round=state.round, tensors=wire_protos.pack(state.classes, state.prototypes))

    def aggregate(self, state: FedProtoState, updates: Sequence[ClientUpdate]) -> FedProtoState:
        labels, protos = wire_protos.stack_uploads(updates, state.num_classes, state.feature_dim)
        if labels.numel() == 0:
            return replace(state, round=state.round + 1)
        counts = wire_protos.stack_counts(updates)
        if counts is None:
            classes, means = average_prototypes(labels, protos, state.num_classes)
        else:
            classes, means = count_weighted_prototypes(labels, protos, counts, state.num_classes)
        return replace(state, round=state.round + 1, classes=classes, prototypes=means)
