"""Server half of FedAvg, and of every algorithm that averages the clients' whole models or bases by samples.

The global model is `ServerEnv.reference_arch` built from the run seed (`global_model`); each round the
server publishes its shared parts (`shared_parts`: the whole model here, the base for FedPer, FedRep and
FedBABU) and replaces them by the sample-weighted average of the uploads (`math.fedavg_average`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from fedloom.algorithms.base import AlgorithmConfig, ServerEnv
from fedloom.algorithms.fedavg.math import fedavg_average
from fedloom.algorithms.global_model import WHOLE_MODEL, Shapes, model_shapes, model_tensors
from fedloom.algorithms.model_parts import TensorMap, check_part
from fedloom.algorithms.shared_model import SHARED_ARCH, arch_tensor, reference_model
from fedloom.wire import ClientUpdate, GlobalPayload


@dataclass(frozen=True)
class FedAvgState:
    round: int
    arch: str
    params: TensorMap
    shapes: Shapes
    rounds: int | None = None  # the federation's length, when known (FedBABU fine-tunes after the last round)
    values: dict[str, float] = field(default_factory=dict)


class FedAvgServer:
    shared_parts: tuple[str, ...] = WHOLE_MODEL

    def __init__(self, config: AlgorithmConfig) -> None:
        self.config = config

    def init(self, env: ServerEnv) -> FedAvgState:
        model = reference_model(env, env.feature_dim)
        assert env.reference_arch is not None  # reference_model refuses an env without one
        params, shapes = model_tensors(model, self.shared_parts), model_shapes(model, self.shared_parts)
        return FedAvgState(round=0, arch=env.reference_arch, params=params, shapes=shapes, rounds=env.rounds)

    def bootstrap(self, state: FedAvgState) -> GlobalPayload:
        """The architecture every client must have (a client with another one refuses to join)."""
        return GlobalPayload(round=state.round, tensors={SHARED_ARCH: arch_tensor(state.arch)})

    def broadcast(self, state: FedAvgState) -> GlobalPayload:
        return GlobalPayload(round=state.round, tensors=state.params, values=state.values)

    def aggregate(self, state: FedAvgState, updates: Sequence[ClientUpdate]) -> FedAvgState:
        for update in updates:
            check_part(update.tensors, state.shapes)
        params = state.params
        if updates:
            params = fedavg_average([u.tensors for u in updates], [u.num_samples for u in updates])
        return replace(state, round=state.round + 1, params=params)
