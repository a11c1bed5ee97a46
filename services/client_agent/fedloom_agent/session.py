"""One federation as this client takes part in it: the algorithm's client half and our ClientContext.

The context is built exactly as the simulator builds it (`fedloom.simulation.setup.build_contexts`), with
the seeds of `fedloom.runtime`: model initialised under `model_seed(seed, architecture)` in a forked global
RNG, then moved to the device; the client's own generator seeded with `client_seed(seed, client_id)`.
Same seeds, same results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ClientAlgorithm, ClientContext, TrainSettings
from fedloom.errors import ConfigError
from fedloom.models import build_model
from fedloom.privacy.noise import keep_secret_seed
from fedloom.runtime import client_seed, model_seed
from fedloom.wire.control import FederationConfig
from fedloom_agent.dataspec import LocalData


@dataclass
class Session:
    """A federation's algorithm half and context, plus how long each round's local training took."""

    federation_id: str
    config: FederationConfig
    architecture: str
    algorithm: ClientAlgorithm
    ctx: ClientContext
    fit_seconds: dict[int, float] = field(default_factory=dict)


def train_settings(config: FederationConfig) -> TrainSettings:
    """The federation's training settings; evaluation batch size as in the simulator (its default)."""
    return TrainSettings.model_validate(config.training.model_dump())


def check_data_fits(config: FederationConfig, local: LocalData) -> None:
    """Refuse a federation whose input shape or class count our data cannot serve."""
    if tuple(config.input_shape) != local.input_shape:
        raise ConfigError(f"the federation expects inputs {tuple(config.input_shape)}; our data is {local.input_shape}")
    labels = torch.cat([local.data.train_y, local.data.test_y])
    if labels.numel() and int(labels.max()) >= config.num_classes:
        raise ConfigError(f"our data has label {int(labels.max())}; the federation has {config.num_classes} classes")


def open_session(
    federation_id: str,
    config: FederationConfig,
    client_id: int,
    local: LocalData,
    architecture: str,
    device: torch.device,
    secret_noise: bool = True,
) -> Session:
    """A fresh session: algorithm from the registry, seeded model and generator, our data relabelled; with
    privacy settings and `secret_noise`, a secret noise seed of this client's own (`fedloom.privacy.noise`)."""
    check_data_fits(config, local)
    spec = get_algorithm(config.algorithm)
    algorithm = spec.make_client(make_config(spec, config.options))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(model_seed(config.seed, architecture))
        model = build_model(architecture, config.input_shape, config.num_classes, config.feature_dim).to(device)
    ctx = ClientContext(
        client_id=client_id,
        model=model,
        data=local.for_client(client_id),
        num_classes=config.num_classes,
        settings=train_settings(config),
        rng=torch.Generator().manual_seed(client_seed(config.seed, client_id)),
        device=device,
    )
    if config.training.privacy is not None and secret_noise:
        keep_secret_seed(ctx.state)
    return Session(federation_id, config, architecture, algorithm, ctx)
