"""Control-plane messages (JSON over REST): enrolment, federations, tasks, metrics.

Tensors never travel in these; they go in `fedloom.wire.messages` over msgpack.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fedloom.privacy.config import PrivacyConfig, plan_privacy

RoundPhase = Literal["open", "collecting", "aggregating", "generating", "published", "evaluated", "failed"]
"""published: the package is out and the selected clients evaluate it; evaluated: their reports are in (or the
deadline passed) and no more are taken."""
FederationStatus = Literal["created", "running", "finished", "failed"]


class ControlModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EnrollmentTokenRequest(ControlModel):
    ttl_seconds: int = Field(3600, ge=1, le=30 * 24 * 3600)
    note: str = Field("", max_length=200)


class EnrollmentToken(ControlModel):
    token: str
    expires_at: float


class EnrollRequest(ControlModel):
    enrollment_token: str = Field(min_length=1, max_length=200)
    name: str = Field("", max_length=100)
    architecture: str = Field("", max_length=100)


class Enrollment(ControlModel):
    """Returned once: the API token is stored only as a hash."""

    client_id: int
    api_token: str


class ClientInfo(ControlModel):
    client_id: int
    name: str
    architecture: str
    enrolled_at: float
    last_seen: float | None = None
    rounds_joined: int = 0
    last_accuracy: float | None = None
    bytes_sent: int = 0


class TrainingConfig(ControlModel):
    local_epochs: int = Field(1, ge=1)
    batch_size: int = Field(10, ge=1)
    lr: float = Field(0.01, gt=0)
    privacy: PrivacyConfig | None = Field(
        None,
        description="differentially private uploads: {epsilon, delta, clip} or {noise_multiplier, clip}; "
        "an epsilon budget is planned over the federation's rounds",
    )


class FederationConfig(ControlModel):
    """What an admin posts to create a federation."""

    @model_validator(mode="before")
    @classmethod
    def _plan_privacy_over_the_rounds(cls, data: Any) -> Any:
        """`training.privacy.releases` defaults to `rounds`, so the noise is fixed when the federation is made."""
        if not isinstance(data, dict) or not isinstance(data.get("training"), dict):
            return data
        rounds = data.get("rounds")
        if not isinstance(rounds, int):
            return data  # the field's own validation reports it
        return {**data, "training": plan_privacy(data["training"], rounds)}

    algorithm: str
    options: dict[str, Any] = Field(default_factory=dict)
    num_classes: int = Field(ge=2, le=100_000)
    feature_dim: int = Field(512, ge=1, le=65_536)
    input_shape: tuple[int, int, int] = (1, 28, 28)
    rounds: int = Field(ge=1, le=100_000)
    min_clients: int = Field(1, ge=1)
    quorum_fraction: float = Field(1.0, gt=0, le=1)
    round_deadline_seconds: float = Field(600.0, gt=0)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    seed: int = Field(0, ge=0)
    generator: str = Field("builtin", description="'builtin', 'tiny' or 'remote' (the generator service)")
    shared_architecture: str = Field(
        "", max_length=100, description="model the server builds for FML/FedKD/FedMRL; empty: the first client's"
    )
    generator_retry_seconds: float = Field(
        120.0, gt=0, le=3600, description="how long a round keeps retrying an unreachable generator service"
    )
    on_generator_failure: Literal["fail", "proceed"] = Field(
        "fail",
        description="when the generator stays unreachable: 'fail' the federation, or 'proceed' with the round "
        "published without new images (its uploads are not aggregated)",
    )


class Federation(ControlModel):
    federation_id: str


class RoundSummary(ControlModel):
    round: int
    phase: RoundPhase
    clients: list[int] = Field(default_factory=list)
    uploads: int = 0
    upload_bytes: int = 0
    download_bytes: int = 0
    accuracy: float | None = None
    accuracy_std: float | None = None
    other_accuracy: dict[str, float] = Field(default_factory=dict)
    """Sample-weighted accuracy of the clients' other models (Ditto's global, FedBABU's fine-tuned), by name."""
    epsilon_by_client: dict[int, float] = Field(default_factory=dict)
    """With privacy: the epsilon each client has spent so far, as its last upload said."""
    epsilon_max: float | None = None
    phase_seconds: dict[str, float] = Field(default_factory=dict)
    server: dict[str, float] = Field(default_factory=dict)
    note: str | None = None


class FederationState(ControlModel):
    federation_id: str
    status: FederationStatus
    config: FederationConfig
    current_round: int
    clients: list[int]
    rounds: list[RoundSummary]
    error: str | None = None


class Task(ControlModel):
    """What a client agent is told to do next."""

    federation_id: str
    round: int
    kind: Literal["fit", "evaluate"]
    config: FederationConfig


MAX_TEST_SAMPLES = 10_000_000
"""The largest test split a client may report; the first report of a federation fixes each client's size."""


class MetricsReport(ControlModel):
    correct: int = Field(ge=0)
    total: int = Field(ge=0, le=MAX_TEST_SAMPLES)
    loss: float = 0.0
    train_seconds: float = Field(0.0, ge=0)
    other_correct: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict, max_length=8)
    """Correct predictions of the client's other models by name (Ditto's global model, FedBABU's fine-tuned
    one), on the same test split; never part of `correct`."""

    @model_validator(mode="after")
    def correct_within_total(self) -> MetricsReport:
        if self.correct > self.total or any(v > self.total for v in self.other_correct.values()):
            raise ValueError(f"correct predictions cannot exceed the {self.total} samples tested")
        return self


class ClientRoundMetrics(ControlModel):
    """One client's reported test result for one round (operators' view; the dashboard and export)."""

    round: int
    client_id: int
    correct: int
    total: int
    accuracy: float | None
    loss: float
