"""Generator-service messages: latents and images over msgpack, generation jobs over a Redis stream.

HTTP (`routes.GENERATOR_*`, content type `routes.MSGPACK`):
- `LatentRequest(z)` -> `LatentResponse(w)`: the caller draws z ~ N(0, I) with its own seeded RNG,
  the service maps it, so w is reproducible from the caller's seed alone.
- `ImageRequest(w, shape)` -> `ImageResponse(images, latents, normalized)`.
- `GeneratorInfo` (JSON) describes the loaded generator; `Readiness` (JSON) answers `/readyz`.

Queue (`routes.key(routes.GENERATION_STREAM)`): `job_fields(...)` builds one stream entry,
`parse_job(fields)` reads it back. The worker writes the encoded `ImageResponse` to
`routes.artifact_key(fed, round, GENERATED_ARTIFACT)` and then the encoded `GenerationResult`
(done or failed) under `generation_status_key(fed, round)`; the aggregator polls that key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import torch
from pydantic import Field, field_validator

from fedloom.errors import WireError
from fedloom.wire.codec import decode, encode
from fedloom.wire.control import ControlModel
from fedloom.wire.messages import WireModel
from fedloom.wire.routes import key

GENERATED_ARTIFACT = "generated.msgpack"
Side = Annotated[int, Field(ge=1, le=4096)]
ClientShape = tuple[Literal[1, 3], Side, Side]


def _latent_matrix(t: torch.Tensor, name: str) -> torch.Tensor:
    """A float32 [n, d] tensor with finite values, or ValueError saying which rule it breaks."""
    if t.dtype != torch.float32:
        raise ValueError(f"{name} must be float32, got {str(t.dtype).removeprefix('torch.')}")
    if t.ndim != 2:
        raise ValueError(f"{name} must be a matrix [n, dim], got shape {list(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


class LatentRequest(WireModel):
    """z [n, z_dim] float32, drawn by the caller (e.g. `torch.randn(n, z_dim, generator=rng)`)."""

    z: torch.Tensor

    @field_validator("z")
    @classmethod
    def _check_z(cls, z: torch.Tensor) -> torch.Tensor:
        return _latent_matrix(z, "z")


class LatentResponse(WireModel):
    """w [n, w_dim] float32 = the generator's mapping of the request's z."""

    w: torch.Tensor


class ImageRequest(WireModel):
    """w [n, w_dim] float32; `shape` (C, H, W) asks for images post-processed like a client's data."""

    w: torch.Tensor
    shape: ClientShape | None = None

    @field_validator("w")
    @classmethod
    def _check_w(cls, w: torch.Tensor) -> torch.Tensor:
        return _latent_matrix(w, "w")


class ImageResponse(WireModel):
    """images float32 [n, 3, R, R] in [0, 1] (normalized False: the generator's own output), or
    [n, C, H, W] in [-1, 1] (normalized True: `to_client_images` for the request's shape);
    `latents` is the w [n, w_dim] the images were made from, so the pair can be stored as one object."""

    images: torch.Tensor
    latents: torch.Tensor
    normalized: bool = False


class GenerationResult(WireModel):
    """Outcome of one generation job, stored under `generation_status_key(fed, round)`."""

    status: Literal["done", "failed"]
    artifact_key: str | None = None
    count: int = Field(default=0, ge=0)
    error: str | None = None


class GeneratorInfo(ControlModel):
    """What `/v1/info` reports about the loaded generator and the service's limits."""

    backend: str
    source: str
    z_dim: int
    w_dim: int
    num_ws: int
    resolution: int
    device: str
    max_batch_size: int
    max_n_per_request: int


class Readiness(ControlModel):
    """`/readyz`: ready when every check passes (generator loaded, stores reachable when configured)."""

    ready: bool
    checks: dict[str, bool]


@dataclass(frozen=True)
class GenerationJob:
    """One entry of the generation stream: make images from `request` for round `round` of a federation."""

    federation_id: str
    round: int
    request: ImageRequest


def generation_status_key(federation_id: str, round_: int) -> str:
    """Redis key holding the encoded `GenerationResult` of a round's generation job."""
    return key("fed", federation_id, "round", round_, "generated")


def job_fields(federation_id: str, round_: int, request: ImageRequest) -> dict[str, bytes]:
    """Stream fields of a generation job: federation_id, round (decimal) and the encoded ImageRequest."""
    return {"federation_id": federation_id.encode(), "round": str(round_).encode(), "request": encode(request)}


def parse_job(fields: dict[str, bytes]) -> GenerationJob:
    """Read stream fields back into a job; WireError names the missing or malformed field."""
    federation_id, round_ = job_address(fields)
    if "request" not in fields:
        raise WireError("generation job has no 'request' field")
    return GenerationJob(federation_id, round_, decode(fields["request"], ImageRequest))


def job_address(fields: dict[str, bytes]) -> tuple[str, int]:
    """(federation_id, round) of a job, readable even when its request is not."""
    try:
        federation_id = fields["federation_id"].decode()
        round_ = int(fields["round"].decode())
    except (KeyError, UnicodeDecodeError, ValueError) as exc:
        raise WireError(f"generation job needs federation_id and an integer round: {exc!r}") from exc
    if not federation_id or round_ < 0:
        raise WireError(f"generation job has an empty federation_id or a negative round ({round_})")
    return federation_id, round_
