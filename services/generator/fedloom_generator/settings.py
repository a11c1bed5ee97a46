"""Generator-service settings: environment variables with the `FEDLOOM_` prefix, built once at the edge."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import torch
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fedloom.errors import ConfigError

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


class GeneratorSettings(BaseSettings):
    """Everything the generator service reads from its environment (see each field's description)."""

    model_config = SettingsConfigDict(env_prefix="FEDLOOM_", extra="ignore", frozen=True)

    generator: str = Field(default="builtin", description="'builtin', 'tiny', or a StyleGAN3 .pkl / converted folder")
    device: str = Field(default="auto", description="auto (cuda when available), cpu, cuda or cuda:N")
    redis_url: str | None = Field(default=None, description="redis://host:port/db; unset = no generation worker")
    s3_endpoint: str | None = Field(default=None, description="host:port of MinIO/S3; unset = local artifact folder")
    s3_access_key: SecretStr = SecretStr("")
    s3_secret_key: SecretStr = SecretStr("")
    s3_bucket: str = "fedloom"
    s3_secure: bool = False
    s3_region: str | None = None
    artifact_dir: Path | None = Field(default=None, description="local artifact folder when no S3 endpoint is set")
    max_batch_size: int = Field(default=64, ge=1, le=65_536, description="latents per forward pass on the device")
    max_n_per_request: int = Field(default=1024, ge=1, le=1_000_000, description="latents per request or job")
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="largest request body accepted")
    worker_group: str = Field(default="generator", min_length=1, description="Redis consumer group of the workers")
    worker_consumer: str = Field(default_factory=socket.gethostname, min_length=1)
    worker_jobs_per_read: int = Field(default=8, ge=1, le=1024, description="jobs read (and batched) at once")
    worker_block_seconds: float = Field(default=1.0, gt=0, le=60)
    tls_certfile: Path | None = Field(default=None, description="PEM certificate; with tls_keyfile, serve HTTPS")
    tls_keyfile: Path | None = Field(default=None, description="PEM private key of tls_certfile")

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not _DEVICE.match(value):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {value!r}")
        return value

    @property
    def worker_enabled(self) -> bool:
        return self.redis_url is not None


def get_settings() -> GeneratorSettings:
    """Read the settings from the environment; call once at the edge (CLI, ASGI factory)."""
    return GeneratorSettings()


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda when available else cpu; ConfigError for a CUDA device this machine lacks."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but CUDA is not available")
    return device
