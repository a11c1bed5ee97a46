"""Agent settings: flags and `FEDLOOM_`-prefixed environment variables, validated once at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fedloom.errors import ConfigError
from fedloom.wire.urls import http_url


class AgentSettings(BaseSettings):
    """Everything `fedloom agent` needs; e.g. FEDLOOM_SERVER_URL, FEDLOOM_ENROLLMENT_TOKEN, FEDLOOM_DATA."""

    model_config = SettingsConfigDict(env_prefix="FEDLOOM_", extra="ignore", frozen=True)

    server_url: str = Field(description="base URL of the aggregator, e.g. http://localhost:8000")
    api_token: SecretStr | None = Field(None, description="API token from an earlier enrolment")
    client_id: int | None = Field(None, ge=0, description="client id of --api-token (else the saved one)")
    enrollment_token: SecretStr | None = Field(None, description="one-time enrolment token")
    name: str = Field("", max_length=100, description="a name shown to the operators")
    data: str = Field(description="data spec NAME[,key=value...], e.g. synthetic,clients=3,index=0")
    model: str = Field("hcnn8", description="GROUP, GROUP:INDEX or an architecture name")
    state_dir: Path = Field(Path(".fedloom-agent"), description="checkpoint and credentials folder")
    poll_wait: float = Field(30.0, ge=0, description="seconds one long-poll for a task may wait")
    max_retries: int = Field(5, ge=0, description="retries after a failed attempt (connection, timeout, 5xx, 429)")
    backoff_base: float = Field(0.5, gt=0, description="first retry waits up to this many seconds")
    backoff_cap: float = Field(30.0, gt=0, description="no retry waits longer than this")
    request_timeout: float = Field(60.0, gt=0, description="seconds per request (a long-poll adds its wait)")
    device: str = Field("cpu", description="cpu | cuda | auto")
    health_host: str = Field("127.0.0.1", description="address of /healthz and /readyz (0.0.0.0 in a container)")
    health_port: int | None = Field(None, ge=1, le=65_535, description="port of /healthz and /readyz; unset = none")
    privacy_noise: Literal["secret", "seeded"] = Field(
        "secret",
        description="privacy noise from a secret seed kept in the checkpoint ('secret'), or from the federation's "
        "seed ('seeded': reproducible, and known to the server, so no guarantee against it)",
    )

    @field_validator("server_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return http_url(value)

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        if value not in ("cpu", "cuda", "auto") and not value.startswith("cuda:"):
            raise ValueError(f"must be cpu, cuda, cuda:N or auto, got {value!r}")
        return value


def load_settings(overrides: dict[str, Any]) -> AgentSettings:
    """Settings from the environment, with the given (non-None) values taking precedence."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return AgentSettings(**given)
    except ValidationError as exc:
        problems = "; ".join(_describe(e["loc"], e["msg"]) for e in exc.errors())
        raise ConfigError(f"invalid agent settings: {problems}") from exc


def _describe(loc: tuple[int | str, ...], message: str) -> str:
    name = ".".join(map(str, loc)) or "settings"
    return f"{name} (env FEDLOOM_{name.upper()}): {message}"
