from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedCPConfig(AlgorithmConfig):
    """FedCP options, PFLlib's defaults (pfl_algorithms.md 9). The authors' run script uses lam = 5 for MNIST
    with the CNN; PFLlib's default (and its FMNIST20 figure) is 1."""

    lam: float = Field(
        1.0, ge=0, description="weight of the MMD term between the base's and the frozen global base's features (-lam)"
    )
