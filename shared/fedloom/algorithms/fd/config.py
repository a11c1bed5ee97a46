from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FDConfig(AlgorithmConfig):
    """FD (FedDistill) options: lam 1 as in the HtFLlib scripts (algorithms.md 1.1)."""

    lam: float = Field(1.0, ge=0, description="weight of the MSE between logits and the global class logits")
