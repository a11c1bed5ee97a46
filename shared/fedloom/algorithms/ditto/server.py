"""Server half of Ditto: FedAvg of the global model w (582,026 floats for cnn4 on 1x28x28, C = 10); the
personal models never leave the clients."""

from __future__ import annotations

from fedloom.algorithms.fedavg.server import FedAvgServer


class DittoServer(FedAvgServer):
    pass
