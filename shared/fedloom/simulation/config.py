"""The simulation's typed, frozen config: parsed once from YAML and/or flags, then passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fedloom.algorithms.base import TrainSettings
from fedloom.errors import ConfigError
from fedloom.privacy.config import PrivacyConfig, plan_privacy


class SimulationConfig(BaseModel):
    """One simulated federation. Defaults are HtFLlib's settings for its benchmark."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    algorithm: str
    options: dict[str, Any] = Field(default_factory=dict, description="algorithm-specific options")
    dataset: str = "synthetic"
    dataset_options: dict[str, Any] = Field(
        default_factory=dict, description="extra data set settings, e.g. samples / num_classes / image_shape"
    )
    data_dir: Path | None = None
    partition: str = "dir:0.1"
    clients: int = Field(20, ge=1)
    join_ratio: float = Field(1.0, gt=0, le=1)
    rounds: int = Field(50, ge=1)
    local_epochs: int = Field(1, ge=1)
    batch_size: int = Field(10, ge=1)
    lr: float = Field(0.01, gt=0)
    eval_batch_size: int = Field(256, ge=1)
    models: str = "hcnn8"
    feature_dim: int = Field(512, ge=1)
    seed: int = Field(0, ge=0)
    generator: str = Field(
        "builtin", description="FedKTL's generator: 'builtin' (shipped), 'tiny' (random), or a StyleGAN3 pickle/folder"
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(
        None, ge=1, description="torch CPU threads in all; with workers, split evenly among them (at least 1 each)"
    )
    workers: int | None = Field(
        None, ge=1, description="worker processes that own and train the clients (None: all in this process)"
    )
    ray: str | None = Field(
        None, description="Ray address ('auto', HOST:PORT, or 'local' to start one here): workers are Ray actors"
    )
    gpus_per_client: float = Field(0.0, ge=0, le=1, description="with Ray: the GPU fraction each client reserves")
    out: Path | None = None
    privacy: PrivacyConfig | None = Field(
        None, description="differentially private uploads: {epsilon, delta, clip} or {noise_multiplier, clip}"
    )

    @model_validator(mode="before")
    @classmethod
    def _plan_privacy_over_the_rounds(cls, data: Any) -> Any:
        return plan_privacy(data, int(data.get("rounds", 50))) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _gpus_need_ray(self) -> SimulationConfig:
        if self.gpus_per_client and self.ray is None:
            raise ValueError("gpus_per_client is a Ray resource: it needs ray (--ray ADDRESS)")
        return self

    @property
    def parallel(self) -> bool:
        """Whether clients live in worker processes (local or Ray) rather than in this process."""
        return self.workers is not None or self.ray is not None

    def train_settings(self) -> TrainSettings:
        return TrainSettings(
            local_epochs=self.local_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            eval_batch_size=self.eval_batch_size,
            privacy=self.privacy,
        )


def load_config(path: Path | None, overrides: dict[str, Any]) -> SimulationConfig:
    """Config from an optional YAML file, with explicitly given flags taking precedence."""
    values: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path} must hold a mapping of settings")
        values.update(loaded)
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return SimulationConfig.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid simulation settings: {problems}") from exc
