"""Every route of the generator service over real HTTP, with the tiny generator: results are reproducible."""

from __future__ import annotations

import httpx
import pytest
import torch

from fedloom.generation.postprocess import to_client_images
from fedloom.generation.tiny import TinyGenerator
from fedloom.wire import decode, encode
from fedloom.wire.generation import ImageRequest, ImageResponse, LatentRequest, LatentResponse
from fedloom.wire.routes import (
    GENERATOR_IMAGES,
    GENERATOR_INFO,
    GENERATOR_LATENTS,
    HEALTHZ,
    MSGPACK,
    PROMETHEUS,
    READYZ,
)

HEADERS = {"content-type": MSGPACK}


def post_latents(client: httpx.Client, z: torch.Tensor) -> torch.Tensor:
    reply = client.post(GENERATOR_LATENTS, content=encode(LatentRequest(z=z)), headers=HEADERS)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == MSGPACK
    return decode(reply.content, LatentResponse).w


def post_images(client: httpx.Client, w: torch.Tensor, shape: tuple[int, int, int] | None = None) -> ImageResponse:
    body = encode(ImageRequest(w=w, shape=shape))  # type: ignore[arg-type]
    reply = client.post(GENERATOR_IMAGES, content=body, headers=HEADERS)
    assert reply.status_code == 200, reply.text
    return decode(reply.content, ImageResponse)


@pytest.fixture(scope="module")
def tiny() -> TinyGenerator:
    return TinyGenerator()


def test_info_describes_the_generator(client: httpx.Client) -> None:
    info = client.get(GENERATOR_INFO).json()
    assert info == {
        "backend": "TinyGenerator",
        "source": "tiny",
        "z_dim": 64,
        "w_dim": 64,
        "num_ws": 1,
        "resolution": 32,
        "device": "cpu",
        "max_batch_size": 8,
        "max_n_per_request": 64,
    }


def test_latents_are_the_mapping_of_the_callers_z(client: httpx.Client, tiny: TinyGenerator) -> None:
    z = torch.randn(20, 64, generator=torch.Generator().manual_seed(5))  # 20 > max_batch_size: chunked
    w = post_latents(client, z)
    assert w.shape == (20, 64) and w.dtype == torch.float32
    assert torch.equal(w, post_latents(client, z.clone()))
    expected = tiny.sample_latents(20, torch.Generator().manual_seed(5))  # same seed, same w as in-process
    torch.testing.assert_close(w, expected, atol=1e-6, rtol=1e-6)


def test_images_are_deterministic_in_unit_range(client: httpx.Client, tiny: TinyGenerator) -> None:
    w = tiny.sample_latents(19, torch.Generator().manual_seed(1))
    first, again = post_images(client, w), post_images(client, w)
    assert first.images.shape == (19, 3, 32, 32) and first.images.dtype == torch.float32
    assert not first.normalized and torch.equal(first.latents, w)
    assert torch.equal(first.images, again.images)
    assert float(first.images.min()) >= 0.0 and float(first.images.max()) <= 1.0
    torch.testing.assert_close(first.images, tiny.synthesize(w), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 16, 24)])
def test_images_post_processed_to_the_client_shape(
    client: httpx.Client, tiny: TinyGenerator, shape: tuple[int, int, int]
) -> None:
    w = tiny.sample_latents(10, torch.Generator().manual_seed(2))
    reply = post_images(client, w, shape)
    assert reply.normalized and reply.images.shape == (10, *shape)
    assert float(reply.images.min()) >= -1.0 and float(reply.images.max()) <= 1.0
    torch.testing.assert_close(reply.images, to_client_images(tiny.synthesize(w), shape), atol=1e-5, rtol=1e-5)


def test_empty_requests_get_empty_answers(client: httpx.Client) -> None:
    assert post_latents(client, torch.empty(0, 64)).shape == (0, 64)
    assert post_images(client, torch.empty(0, 64), (1, 28, 28)).images.shape == (0, 1, 28, 28)


def test_health_and_readiness_without_worker(client: httpx.Client) -> None:
    assert client.get(HEALTHZ).json() == {"status": "ok"}
    ready = client.get(READYZ)
    assert ready.status_code == 200 and ready.json() == {"ready": True, "checks": {"generator": True}}


def test_metrics_count_requests_images_and_latency(client: httpx.Client) -> None:
    before = client.get(PROMETHEUS).text
    post_images(client, torch.zeros(3, 64))
    text = client.get(PROMETHEUS)
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = text.text.splitlines()
    assert "# TYPE fedloom_generator_request_seconds histogram" in lines
    assert "# TYPE fedloom_generator_requests_total counter" in lines
    counted = 'fedloom_generator_requests_total{route="/v1/images",method="POST",status="200"} '
    timed = 'fedloom_generator_request_seconds_bucket{route="/v1/images",le="+Inf"} '
    assert any(line.startswith(counted) for line in lines) and any(line.startswith(timed) for line in lines)
    assert _images_total(lines) == _images_total(before.splitlines()) + 3


def _images_total(lines: list[str]) -> int:
    for line in lines:
        if line.startswith('fedloom_generator_images_total{source="http"} '):
            return int(line.split()[-1])
    return 0


def test_openapi_lists_every_route(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {GENERATOR_INFO, GENERATOR_LATENTS, GENERATOR_IMAGES, HEALTHZ, READYZ, PROMETHEUS} <= set(paths)
    assert MSGPACK in paths[GENERATOR_IMAGES]["post"]["requestBody"]["content"]
