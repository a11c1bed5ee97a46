"""What a federation's server half gets to know (`ServerEnv`), built the same way for its run and for the
checks of its uploads, from the stored config and the architecture fixed when it started."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from fedloom.algorithms.base import ServerEnv, TrainSettings
from fedloom.errors import ConfigError
from fedloom.generation.protocol import ImageGenerator
from fedloom.models import ARCHITECTURES
from fedloom.wire.control import ClientInfo, FederationConfig


def check_shared_architecture(config: FederationConfig) -> None:
    if config.shared_architecture and config.shared_architecture not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ConfigError(f"unknown shared_architecture {config.shared_architecture!r}; choose one of {known}")


def reference_architecture(config: FederationConfig, clients: Sequence[ClientInfo]) -> str | None:
    """The shared model's architecture: the configured one, else the first enrolled client's (if it said one)."""
    if config.shared_architecture:
        return config.shared_architecture
    first = min(clients, key=lambda c: c.client_id, default=None)
    return first.architecture if first is not None and first.architecture in ARCHITECTURES else None


def federation_env(
    config: FederationConfig, reference_arch: str | None, generator: ImageGenerator | None = None
) -> ServerEnv:
    return ServerEnv(
        num_classes=config.num_classes,
        feature_dim=config.feature_dim,
        settings=TrainSettings(**config.training.model_dump()),
        seed=config.seed,
        device=torch.device("cpu"),
        input_shape=config.input_shape,
        generator=generator,
        reference_arch=reference_arch,
        rounds=config.rounds,
    )
