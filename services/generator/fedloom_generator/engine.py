"""`GenerationEngine`: the loaded generator behind one lock, in device-sized chunks, with the service's limits.

HTTP routes and the queue worker share one engine, so device work is serialised and memory stays
bounded by `max_batch_size` latents per forward pass, whoever asked.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from pathlib import Path

import torch

from fedloom.generation.backends import NAMED
from fedloom.generation.postprocess import to_client_images
from fedloom.generation.protocol import ImageGenerator
from fedloom.wire.codec import DEFAULT_LIMITS
from fedloom.wire.generation import (
    ClientShape,
    GeneratorInfo,
    ImageRequest,
    ImageResponse,
    LatentRequest,
    LatentResponse,
)
from fedloom_generator.errors import InvalidLatents, RequestTooLarge
from fedloom_generator.metrics import Metrics

REPLY_OVERHEAD_BYTES = 4096  # msgpack framing of an ImageResponse beyond its tensors' bytes


class GenerationEngine:
    """Maps z to w and renders w to images; checks sizes before any device work."""

    def __init__(
        self,
        generator: ImageGenerator,
        *,
        device: torch.device,
        source: str,
        max_batch_size: int,
        max_n_per_request: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.generator, self.device, self.source = generator, device, source
        self.max_batch_size, self.max_n_per_request = max_batch_size, max_n_per_request
        self.metrics = metrics or Metrics()
        self._lock = threading.Lock()

    def info(self) -> GeneratorInfo:
        g = self.generator
        return GeneratorInfo(
            backend=type(g).__name__,
            source=self.source if self.source in NAMED else Path(self.source).name,
            z_dim=g.z_dim,
            w_dim=g.w_dim,
            num_ws=g.num_ws,
            resolution=g.resolution,
            device=str(self.device),
            max_batch_size=self.max_batch_size,
            max_n_per_request=self.max_n_per_request,
        )

    def latents(self, request: LatentRequest) -> LatentResponse:
        """w = mapping(z) for the caller's z [n, z_dim]."""
        z = self._checked(request.z, self.generator.z_dim, "z")
        with self._lock, torch.inference_mode():
            parts = [self.generator.map_latents(chunk).float().cpu() for chunk in z.split(self.max_batch_size)]
        w = torch.cat(parts) if parts else torch.empty(0, self.generator.w_dim)
        return LatentResponse(w=w.contiguous())

    def images(self, request: ImageRequest) -> ImageResponse:
        """Images for one request; see `render`."""
        self.check_images(request)
        return self.render([request], source="http")[0]

    def check_images(self, request: ImageRequest) -> None:
        """Raise unless w fits the generator and the reply fits the service's and the codec's limits."""
        w = self._checked(request.w, self.generator.w_dim, "w")
        shape = self.image_shape(request.shape)
        elements = w.shape[0] * math.prod(shape)
        reply_bytes = (elements + w.numel()) * 4 + REPLY_OVERHEAD_BYTES
        if elements > DEFAULT_LIMITS.max_tensor_elements or reply_bytes > DEFAULT_LIMITS.max_message_bytes:
            raise RequestTooLarge(
                f"{w.shape[0]} images of shape {list(shape)} ({elements} elements) would exceed what one "
                f"message may carry ({DEFAULT_LIMITS.max_tensor_elements} elements, "
                f"{DEFAULT_LIMITS.max_message_bytes} bytes); ask for fewer"
            )

    def render(self, requests: Sequence[ImageRequest], source: str) -> list[ImageResponse]:
        """Render several (already checked) requests in shared device batches; one response each, in order."""
        if not requests:
            return []
        owners = torch.cat([torch.full((r.w.shape[0],), i, dtype=torch.long) for i, r in enumerate(requests)])
        w_all = torch.cat([r.w for r in requests])
        parts: list[list[torch.Tensor]] = [[] for _ in requests]
        with self._lock, torch.inference_mode():
            for start in range(0, w_all.shape[0], self.max_batch_size):
                chunk = slice(start, start + self.max_batch_size)
                raw = self.generator.synthesize(w_all[chunk]).float()
                own = owners[chunk].to(raw.device)
                for i in torch.unique(owners[chunk]).tolist():
                    parts[i].append(self._finish(raw[own == i], requests[i].shape).cpu())
        self.metrics.count_images(w_all.shape[0], source)
        return [self._response(r, p) for r, p in zip(requests, parts, strict=True)]

    def image_shape(self, shape: ClientShape | None) -> tuple[int, int, int]:
        r = self.generator.resolution
        return (3, r, r) if shape is None else (shape[0], shape[1], shape[2])

    def _response(self, request: ImageRequest, parts: list[torch.Tensor]) -> ImageResponse:
        images = torch.cat(parts) if parts else torch.empty(0, *self.image_shape(request.shape))
        return ImageResponse(images=images.contiguous(), latents=request.w, normalized=request.shape is not None)

    @staticmethod
    def _finish(images01: torch.Tensor, shape: ClientShape | None) -> torch.Tensor:
        if shape is None:
            return images01
        return to_client_images(images01, (shape[0], shape[1], shape[2]))

    def _checked(self, latents: torch.Tensor, width: int, name: str) -> torch.Tensor:
        if latents.shape[1] != width:
            raise InvalidLatents(f"{name} must have shape [n, {width}] for this generator, got {list(latents.shape)}")
        if latents.shape[0] > self.max_n_per_request:
            raise RequestTooLarge(f"{latents.shape[0]} latents exceed the limit of {self.max_n_per_request}")
        return latents
