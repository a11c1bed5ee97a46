"""Server half of FedBABU: FedAvg over the base only; the last package (after the federation's final
aggregation) also carries `fine_tune = 1`, which tells each client to fine-tune when it evaluates it."""

from __future__ import annotations

from dataclasses import replace

from fedloom.algorithms.fedavg.server import FedAvgServer, FedAvgState
from fedloom.algorithms.global_model import BASE_ONLY
from fedloom.wire import GlobalPayload

FINE_TUNE = "fine_tune"


class FedBABUServer(FedAvgServer):
    shared_parts = BASE_ONLY

    def broadcast(self, state: FedAvgState) -> GlobalPayload:
        last = state.rounds is not None and state.round >= state.rounds
        return super().broadcast(replace(state, values={**state.values, FINE_TUNE: 1.0}) if last else state)
