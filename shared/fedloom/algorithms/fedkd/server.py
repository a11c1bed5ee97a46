"""Server half of FedKD: expand the clients' compressed mentees, average them without weights, compress again
with this round's energy and publish that to every client (algorithms.md 1.8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedkd.client import ENERGY
from fedloom.algorithms.fedkd.compression import compress, expand
from fedloom.algorithms.fedkd.config import FedKDConfig
from fedloom.algorithms.fedkd.math import energy_threshold
from fedloom.algorithms.model_parts import TensorMap, average_parts, select_part
from fedloom.algorithms.shared_model import SHARED, SharedModelServer, SharedModelState
from fedloom.errors import ConfigError
from fedloom.wire import ClientUpdate, GlobalPayload


@dataclass(frozen=True)
class FedKDState(SharedModelState):
    rounds: int = 1


class FedKDServer(SharedModelServer):
    """`state.params` is the published package: raw in round 0, SVD-compressed after each aggregation."""

    def __init__(self, config: FedKDConfig) -> None:
        self.config = config

    def energy(self, state: FedKDState) -> float:
        return energy_threshold(state.round, state.rounds, self.config.energy_start, self.config.energy_end)

    def init(self, env: ServerEnv) -> FedKDState:
        if env.rounds is None:
            raise ConfigError("FedKD's SVD energy grows over the federation: the server needs its number of rounds")
        base = super().init(env)
        return FedKDState(base.round, base.arch, base.params, base.shapes, rounds=env.rounds)

    def broadcast(self, state: SharedModelState) -> GlobalPayload:
        assert isinstance(state, FedKDState)
        return GlobalPayload(round=state.round, tensors=state.params, values={ENERGY: self.energy(state)})

    def aggregate(self, state: SharedModelState, updates: Sequence[ClientUpdate]) -> FedKDState:
        assert isinstance(state, FedKDState)
        parts = [self.uploaded_part(state, update) for update in updates]
        params = compress(average_parts(parts), self.energy(state)) if parts else state.params
        return replace(state, round=state.round + 1, params=params)

    def uploaded_part(self, state: SharedModelState, update: ClientUpdate) -> TensorMap:
        return expand(select_part(update.tensors, SHARED), state.shapes)
