from fedloom.algorithms.base import AlgorithmConfig


class LocalConfig(AlgorithmConfig):
    """Local training has no options of its own."""
