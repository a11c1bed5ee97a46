from fedloom.algorithms.base import AlgorithmConfig


class LGConfig(AlgorithmConfig):
    """LG-FedAvg has no options of its own (algorithms.md 1.1)."""
