from pydantic import Field, model_validator

from fedloom.algorithms.base import AlgorithmConfig


class FedKDConfig(AlgorithmConfig):
    """FedKD options, HtFLlib's defaults (algorithms.md 1.1): mentee lr 0.01, SVD energy 0.95 -> 0.98."""

    mentee_lr: float = Field(0.01, gt=0, description="SGD lr of the shared mentee (HtFLlib -mlr)")
    energy_start: float = Field(0.95, gt=0, le=1, description="SVD energy kept in round 0 (HtFLlib -Ts)")
    energy_end: float = Field(0.98, gt=0, le=1, description="SVD energy kept in the last round (HtFLlib -Te)")
    clip_norm: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def energy_grows(self) -> "FedKDConfig":
        if self.energy_end < self.energy_start:
            raise ValueError("energy_end must be >= energy_start")
        return self
