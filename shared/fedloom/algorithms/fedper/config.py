from fedloom.algorithms.base import AlgorithmConfig


class FedPerConfig(AlgorithmConfig):
    """FedPer has no options of its own in PFLlib: the base is shared, the head (its last layer) is personal."""
