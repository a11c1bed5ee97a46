from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FMLConfig(AlgorithmConfig):
    """FML options; alpha = beta = 0.5 as in the HtFLlib scripts (algorithms.md 1.1)."""

    alpha: float = Field(0.5, ge=0, le=1, description="weight of CE in the local model's loss (1 - alpha: KL)")
    beta: float = Field(0.5, ge=0, le=1, description="weight of CE in the meme model's loss (1 - beta: KL)")
    clip_norm: float = Field(10.0, gt=0)
