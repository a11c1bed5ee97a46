from fedloom.algorithms.base import AlgorithmConfig


class FedAvgConfig(AlgorithmConfig):
    """FedAvg has no options of its own: local epochs, batch size and learning rate are run settings
    (PFLlib's defaults: 1 epoch, batch 10, lr 0.005; its FMNIST20 figures use lr 0.01)."""
