"""The algorithm contract: a client half and a server half that talk only through wire payloads.

An algorithm package exposes `SPEC = AlgorithmSpec(...)`; `registry.py` finds it by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import torch
from pydantic import BaseModel, ConfigDict, Field

from fedloom.data.types import ClientData
from fedloom.errors import ConfigError
from fedloom.generation.protocol import ImageGenerator
from fedloom.models.base import BaseHeadModel
from fedloom.privacy.config import PrivacyConfig
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

State = TypeVar("State")


class TrainSettings(BaseModel):
    """Client-side hyper-parameters shared by every algorithm (HtFLlib defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    local_epochs: int = Field(1, ge=1)
    batch_size: int = Field(10, ge=1)
    lr: float = Field(0.01, gt=0)
    eval_batch_size: int = Field(256, ge=1)
    """Rows per evaluation-mode pass: a few hundred keep a small CNN's activations in cache on CPUs
    (hcnn8 on 1x28x28: 91 us a sample at 256, 131 us at 1000)."""
    privacy: PrivacyConfig | None = None
    """Differentially private uploads (`fedloom.privacy`), planned: its noise multiplier is set."""


class AlgorithmConfig(BaseModel):
    """Base of each algorithm's frozen config."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass
class ClientContext:
    """Everything one client owns: model, private data, seeded RNG and algorithm-local state."""

    client_id: int
    model: BaseHeadModel
    data: ClientData
    num_classes: int
    settings: TrainSettings
    rng: torch.Generator
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerEnv:
    """What the server half may use: problem shape, device, seed, optional image generator, client 0's arch."""

    num_classes: int
    feature_dim: int
    settings: TrainSettings
    seed: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    generator: ImageGenerator | None = None
    input_shape: tuple[int, int, int] | None = None
    reference_arch: str | None = None  # client 0's architecture: weight-sharing algorithms build it on the server
    rounds: int | None = None  # the federation's length, for schedules over rounds (FedKD's SVD energy)
    noise_secret: int | None = None
    """Seed of the server's central-DP noise when it must not be derivable from `seed` (`fedloom.privacy.noise`)."""


class ClientAlgorithm(Protocol):
    """Client half: one-time set-up from the bootstrap package, local training, local evaluation."""

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None: ...

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate: ...

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport: ...


class NoBootstrap:
    """Mixin for client halves that need nothing from the one-time bootstrap package."""

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        return None


class ServerAlgorithm(Protocol[State]):
    """Server half: holds the global state, publishes packages, aggregates uploads."""

    def init(self, env: ServerEnv) -> State: ...

    def bootstrap(self, state: State) -> GlobalPayload: ...

    def broadcast(self, state: State) -> GlobalPayload: ...

    def aggregate(self, state: State, updates: Sequence[ClientUpdate]) -> State: ...


@dataclass(frozen=True)
class AlgorithmSpec(Generic[State]):
    """Both halves of one algorithm plus its config type, as the registry hands them out.

    `check_update(update, num_classes, feature_dim)` raises WireError for an upload the server half
    could not use, so services refuse it at the door (4xx) instead of failing the round.
    """

    name: str
    config_type: type[AlgorithmConfig]

    make_client: Callable[[Any], ClientAlgorithm]
    make_server: Callable[[Any], ServerAlgorithm[Any]]
    needs_generator: bool = False
    check_update: Callable[[ClientUpdate, int, int], None] = lambda update, classes, dim: None
    description: str = ""
    check_update_env: Callable[[ClientUpdate, ServerEnv, Any], None] | None = None
    """Optional `(update, env, algorithm config)` check for uploads whose shapes depend on more than
    (classes, feature_dim), e.g. a shared model built from `env.reference_arch`."""
    one_architecture: bool = False
    """Every client must have the same architecture (FedAvg and the personalised algorithms average whole
    models or bases): `check_architectures` refuses anything else."""
    local_privacy: bool = False
    """The client half releases only noisy per-class means when `TrainSettings.privacy` is set
    (`fedloom.algorithms.private_upload`)."""
    central_privacy: bool = False
    """Both halves are wrapped for DP-FedAvg (`fedloom.algorithms.central_privacy`): clipped updates, noise
    at the server."""
    privacy_refusal: str = "its uploads are not covered by a differentially private mechanism"
    """Why `check_privacy` refuses privacy settings for this algorithm (neither kind of DP above)."""

    def check_privacy(self, privacy: PrivacyConfig | None) -> None:
        """ConfigError (a 422 in the services) for privacy settings this algorithm cannot honour."""
        if privacy is not None and not (self.local_privacy or self.central_privacy):
            raise ConfigError(
                f"{self.name} cannot run with privacy settings: {self.privacy_refusal}. Local DP of uploads: "
                "fedproto, fedtgp, fedktl, fd, fedgh; central DP of averaged updates: fedavg, fedper, fedrep, "
                "fedbabu, ditto, fedala, fedcp, gpfl, lg, fml, fedmrl"
            )

    def check_architectures(self, architectures: Sequence[str]) -> None:
        """ConfigError (a 422 in the services) when this algorithm needs one architecture and gets several."""
        kinds = sorted(set(architectures))
        if self.one_architecture and len(kinds) > 1:
            raise ConfigError(
                f"{self.name} averages the clients' model weights and needs one architecture for every client; "
                f"got {', '.join(kinds)} (use a single-architecture model group such as cnn4)"
            )
