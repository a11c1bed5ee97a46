from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class DittoConfig(AlgorithmConfig):
    """Ditto options, PFLlib's defaults (pfl_algorithms.md 7). With mu = 0 (PFLlib's default) the personal
    model is plain local training; the paper needs mu > 0, and PFLlib's FMNIST20 figure uses mu = 0.1."""

    mu: float = Field(0.0, ge=0, description="lambda: pull of the personal model towards the global one (-mu)")
    personal_epochs: int = Field(1, ge=1, description="epochs on the personal model per round (-pls)")
