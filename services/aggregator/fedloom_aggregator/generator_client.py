"""The generator service seen as an `ImageGenerator`, so FedKTL's server half runs unchanged.

Latents: the aggregator draws z with its own seeded RNG and the service maps z -> w over HTTP, so
results equal the in-process run. Images: over HTTP, or, when the aggregator and the generator share a
Redis, as a job on the generation stream whose image-latent pairs the generator worker writes to the
artifact store (MinIO).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
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
from fedloom.wire.routes import (
    GENERATION_STREAM,
    GENERATOR_IMAGES,
    GENERATOR_INFO,
    GENERATOR_LATENTS,
    HEALTHZ,
    MSGPACK,
    key,
)

log = logging.getLogger("fedloom.aggregator")


class GeneratorUnavailable(FedLoomError):
    """The generator service did not answer within the retry budget, or a generation job failed."""


@dataclass
class GeneratorQueue:
    """Where generation jobs go when a Redis is shared with the generator service.

    `current_round` names each job after the round it belongs to, so a round done again after a restart
    reuses its job's keys instead of leaving new ones behind.
    """

    store: StateStore
    artifacts: ArtifactStore
    federation_id: str
    current_round: Callable[[], int]
    timeout_seconds: float = 600.0


@dataclass
class RemoteGenerator:
    """`retry_seconds`: how long one call keeps retrying an unreachable service (backoff doubling from
    `backoff_seconds`, capped at 5 s) before it raises `GeneratorUnavailable`."""

    url: str
    retry_seconds: float = 120.0
    backoff_seconds: float = 0.25
    timeout_seconds: float = 120.0
    queue: GeneratorQueue | None = None
    info: GeneratorInfo = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=self.timeout_seconds)
        self.info = GeneratorInfo.model_validate_json(self.call("GET", GENERATOR_INFO))
        self.z_dim, self.w_dim = self.info.z_dim, self.info.w_dim
        self.num_ws, self.resolution = self.info.num_ws, self.info.resolution

    def call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """One request, retried on connection errors, timeouts and 5xx until `retry_seconds` are spent."""
        headers = {"Content-Type": MSGPACK} if body is not None else {}
        deadline = time.monotonic() + self.retry_seconds
        attempt = 0
        while True:
            attempt += 1
            timeout = max(0.5, min(self.timeout_seconds, deadline - time.monotonic()))
            try:
                response = self.http.request(method, path, content=body, headers=headers, timeout=timeout)
                if response.status_code < 500:
                    response.raise_for_status()
                    return response.content
                reason = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:
                reason = repr(exc)
            except httpx.HTTPStatusError as exc:
                raise GeneratorUnavailable(f"generator refused {path}: {exc.response.text}") from exc
            pause = min(5.0, self.backoff_seconds * 2 ** (attempt - 1), deadline - time.monotonic())
            log.warning("generator %s %s failed (%s), attempt %d", method, path, reason, attempt)
            if pause <= 0:
                raise GeneratorUnavailable(
                    f"generator at {self.url} unavailable: {attempt} tries in {self.retry_seconds:g} s, last {reason}"
                )
            time.sleep(pause)

    def alive(self) -> bool:
        """One quick liveness probe of the service (no retries)."""
        try:
            return self.http.get(HEALTHZ, timeout=2.0).status_code == 200
        except httpx.TransportError:
            return False

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
        """Queue a generation job and wait for the worker's result in the artifact store; give up when the
        service stops answering for `retry_seconds` or the job takes longer than the queue's timeout."""
        job = queue.current_round()
        status_key = generation_status_key(queue.federation_id, job)
        queue.store.delete(status_key)
        queue.store.xadd(key(GENERATION_STREAM), job_fields(queue.federation_id, job, request))
        deadline = time.monotonic() + queue.timeout_seconds
        last_alive = checked = time.monotonic()
        while (raw := queue.store.get(status_key)) is None:
            now = time.monotonic()
            if now > deadline:
                raise GeneratorUnavailable(f"generation job {job} got no result in {queue.timeout_seconds:.0f} s")
            if now - checked > 1.0:
                checked, last_alive = now, now if self.alive() else last_alive
                if now - last_alive > self.retry_seconds:
                    raise GeneratorUnavailable(
                        f"generator at {self.url} unavailable for {self.retry_seconds:g} s during generation job {job}"
                    )
            time.sleep(0.05)
        queue.store.delete(status_key)
        result = decode(raw, GenerationResult)
        if result.status != "done" or result.artifact_key is None:
            raise GeneratorUnavailable(f"generation job {job} failed: {result.error}")
        return decode(queue.artifacts.get(result.artifact_key), ImageResponse).images
