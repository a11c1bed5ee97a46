"""Server half of FedPer: FedAvg over the base only (576,896 floats for cnn4 on 1x28x28, C = 10)."""

from __future__ import annotations

from fedloom.algorithms.fedavg.server import FedAvgServer
from fedloom.algorithms.global_model import BASE_ONLY


class FedPerServer(FedAvgServer):
    shared_parts = BASE_ONLY
