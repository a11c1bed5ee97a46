from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedProtoConfig(AlgorithmConfig):
    """FedProto options; lam = 10 as in the HtFLlib scripts (the weight of an MSE, see algorithms.md 1.1)."""

    lam: float = Field(10.0, ge=0)
