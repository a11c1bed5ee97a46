"""Server half of FedALA: FedAvg of the whole model (582,026 floats for cnn4 on 1x28x28, C = 10); the
aggregation weights W stay on the clients."""

from __future__ import annotations

from fedloom.algorithms.fedavg.server import FedAvgServer


class FedALAServer(FedAvgServer):
    pass
