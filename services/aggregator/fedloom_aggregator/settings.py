"""Aggregator settings: environment variables with the `FEDLOOM_` prefix, built once at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
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
    # security and hardening
    rate_limit_per_second: float = Field(20.0, gt=0, description="requests per second per client (429 above)")
    rate_limit_burst: int = Field(40, ge=1, description="requests a client may send at once before 429")
    audit_log: Path | None = Field(None, description="file that receives one JSON line per admin action/enrolment")
    tls_certfile: Path | None = Field(None, description="PEM certificate; with tls_keyfile, serve HTTPS")
    tls_keyfile: Path | None = Field(None, description="PEM private key of tls_certfile")
    access_log: bool = Field(True, description="one log line per HTTP request (uvicorn's access log)")
    tracing: bool = Field(
        False, description="FastAPI's OpenTelemetry spans for every request (for an OpenTelemetry SDK you configure)"
    )
    shared_enrollment_token: SecretStr | None = Field(
        None,
        min_length=16,
        description="reusable enrolment token of agents the operator deploys (compose, k8s); unset: one-time only",
    )
    privacy_noise: Literal["secret", "seeded"] = Field(
        "secret",
        description="central-DP noise from a secret drawn per federation run ('secret'), or from the federation's "
        "seed ('seeded': reproducible, and known to every client, so no guarantee against them)",
    )
    generation_queue: bool = Field(
        True,
        description="with FEDLOOM_REDIS_URL, image jobs go through Redis to a generator sharing it; false = over HTTP",
    )
    lease_seconds: float = Field(
        6.0, ge=0.5, description="a replica that stops renewing its lease loses its federations' loops after this long"
    )
    workers: int = Field(
        1, ge=1, le=64, description="API processes behind this one address (a SO_REUSEPORT socket each; need Redis)"
    )
    ui_login_per_minute: float = Field(6.0, gt=0, description="dashboard sign-in attempts per minute per address")
    ui_login_burst: int = Field(5, ge=1, description="sign-in attempts an address may make at once before 429")
    ui_refresh_seconds: float = Field(5.0, gt=0, description="how often the /ui dashboard refreshes itself")
    inline_tensor_bytes: int = Field(
        1024 * 1024, ge=0, description="tensors (and uploads) larger than this are stored apart and referenced"
    )
