from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedRepConfig(AlgorithmConfig):
    """FedRep options, PFLlib's defaults (pfl_algorithms.md 5); the base's epochs are the run's local epochs."""

    head_epochs: int = Field(1, ge=1, description="epochs on the head alone, base frozen, before the base's (-pls)")
