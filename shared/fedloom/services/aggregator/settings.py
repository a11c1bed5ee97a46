"""Aggregator settings: environment variables with the `FEDLOOM_` prefix, built once at the edge."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AggregatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FEDLOOM_", extra="ignore", frozen=True)

    admin_token: str = Field(min_length=16, description="bearer token of the operators (FEDLOOM_ADMIN_TOKEN)")
    redis_url: str | None = Field(None, description="redis://host:port/db; unset = in-process state")
    s3_endpoint: str | None = Field(None, description="host:port of MinIO/S3; unset = local artifact folder")
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "fedloom"
    s3_secure: bool = False
    artifact_dir: Path = Path("runs/artifacts")
    generator_url: str | None = Field(None, description="generator service URL, used when generator='remote'")
    device: str = "auto"
    max_body_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    max_poll_seconds: float = Field(60.0, gt=0)
    data_dir: Path | None = None
    inline_tensor_bytes: int = Field(
        1024 * 1024, ge=0, description="tensors (and uploads) larger than this are stored apart and referenced"
    )
