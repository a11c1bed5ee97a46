"""Launcher settings: flags and `FEDLOOM_`-prefixed environment variables, validated once at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fedloom.errors import ConfigError
from fedloom.wire.urls import http_url


class LauncherSettings(BaseSettings):
    """e.g. FEDLOOM_SERVER_URL, FEDLOOM_ADMIN_TOKEN, FEDLOOM_FEDERATION_CONFIG, FEDLOOM_ROUNDS."""

    model_config = SettingsConfigDict(env_prefix="FEDLOOM_", extra="ignore", frozen=True)

    server_url: str = Field(description="base URL of the aggregator, e.g. http://aggregator:8080")
    admin_token: SecretStr = Field(min_length=16, description="the aggregator's operator token")
    federation_config: Path = Field(description="YAML or JSON file of the federation (FederationConfig fields)")
    rounds: int | None = Field(None, ge=1, description="overrides the file's number of rounds")
    wait_clients: int | None = Field(None, ge=1, description="enrolled clients to wait for (default: min_clients)")
    timeout_seconds: float = Field(3600.0, gt=0, description="give up when the federation has not ended by then")
    request_timeout: float = Field(30.0, gt=0, description="seconds per request")

    @field_validator("server_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return http_url(value)


def load_launcher_settings(overrides: dict[str, Any]) -> LauncherSettings:
    """Settings from the environment, with the given (non-None) values taking precedence."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return LauncherSettings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))} (env FEDLOOM_{'_'.join(map(str, e['loc'])).upper()}): {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"invalid launcher settings: {problems}") from exc
