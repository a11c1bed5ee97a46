"""The generator service seen as an `ImageGenerator`, so FedKTL's server half runs unchanged.

Latents: the aggregator draws z with its own seeded RNG and the service maps z -> w over HTTP, so
results equal the in-process run. Images: over HTTP, or, when the aggregator and the generator share a
Redis, as a job on the generation stream whose image-latent pairs the generator worker writes to the
artifact store (MinIO).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import httpx
import torch

from fedloom.errors import FedLoomError
from fedloom.stores.protocol import ArtifactStore, StateStore
from fedloom.wire import decode, encode
from fedloom.wire.generation import (
    GenerationResult,
    GeneratorInfo,
    ImageRequest,
    ImageResponse,
    LatentRequest,
    LatentResponse,
    generation_status_key,
    job_fields,
)
from fedloom.wire.routes import GENERATION_STREAM, GENERATOR_IMAGES, GENERATOR_INFO, GENERATOR_LATENTS, MSGPACK, key

log = logging.getLogger("fedloom.aggregator")


class GeneratorUnavailable(FedLoomError):
    """The generator service did not answer within the retry budget, or a generation job failed."""


@dataclass
class GeneratorQueue:
    """Where generation jobs go when a Redis is shared with the generator service."""

    store: StateStore
    artifacts: ArtifactStore
    federation_id: str
    timeout_seconds: float = 600.0
    jobs: int = 0


@dataclass
class RemoteGenerator:
    url: str
    attempts: int = 4
    backoff_seconds: float = 0.5
    timeout_seconds: float = 120.0
    queue: GeneratorQueue | None = None
    info: GeneratorInfo = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=self.timeout_seconds)
        self.info = GeneratorInfo.model_validate_json(self.call("GET", GENERATOR_INFO))
        self.z_dim, self.w_dim = self.info.z_dim, self.info.w_dim
        self.num_ws, self.resolution = self.info.num_ws, self.info.resolution

    def call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """One request with bounded retries on connection errors, timeouts and 5xx."""
        headers = {"Content-Type": MSGPACK} if body is not None else {}
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.http.request(method, path, content=body, headers=headers)
                if response.status_code < 500:
                    response.raise_for_status()
                    return response.content
                reason = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:
                reason = repr(exc)
            except httpx.HTTPStatusError as exc:
                raise GeneratorUnavailable(f"generator refused {path}: {exc.response.text}") from exc
            log.warning("generator %s %s failed (%s), attempt %d/%d", method, path, reason, attempt, self.attempts)
            time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        raise GeneratorUnavailable(f"generator at {self.url} unavailable after {self.attempts} attempts")

    def map_latents(self, z: torch.Tensor) -> torch.Tensor:
        body = encode(LatentRequest(z=z.detach().float().cpu()))
        return decode(self.call("POST", GENERATOR_LATENTS, body), LatentResponse).w

    def sample_latents(self, n: int, rng: torch.Generator) -> torch.Tensor:
        return self.map_latents(torch.randn(n, self.z_dim, generator=rng, device=rng.device))

    def synthesize(self, w: torch.Tensor) -> torch.Tensor:
        request = ImageRequest(w=w.detach().float().cpu())
        if self.queue is not None:
            return self.synthesize_by_job(request, self.queue)
        return decode(self.call("POST", GENERATOR_IMAGES, encode(request)), ImageResponse).images

    def synthesize_by_job(self, request: ImageRequest, queue: GeneratorQueue) -> torch.Tensor:
        """Queue a generation job and wait for the worker's result in the artifact store."""
        job = queue.jobs
        queue.jobs += 1
        status_key = generation_status_key(queue.federation_id, job)
        queue.store.delete(status_key)
        queue.store.xadd(key(GENERATION_STREAM), job_fields(queue.federation_id, job, request))
        deadline = time.monotonic() + queue.timeout_seconds
        while (raw := queue.store.get(status_key)) is None:
            if time.monotonic() > deadline:
                raise GeneratorUnavailable(f"generation job {job} got no result in {queue.timeout_seconds:.0f} s")
            time.sleep(0.05)
        result = decode(raw, GenerationResult)
        if result.status != "done" or result.artifact_key is None:
            raise GeneratorUnavailable(f"generation job {job} failed: {result.error}")
        return decode(queue.artifacts.get(result.artifact_key), ImageResponse).images
