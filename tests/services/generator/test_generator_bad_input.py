"""Bad requests get a 4xx with a JSON message (never a 500), and the service stays healthy afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import msgpack
import pytest
import torch

from fedloom.wire import encode
from fedloom.wire.generation import ImageRequest, LatentRequest
from fedloom.wire.routes import GENERATOR_IMAGES, GENERATOR_LATENTS, HEALTHZ, MSGPACK, PROMETHEUS, READYZ

HEADERS = {"content-type": MSGPACK}
LIMIT = 64 * 1024  # max_body_bytes of the test server


def tensor(t: torch.Tensor) -> dict[str, object]:
    return {"dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape), "bytes": t.numpy().tobytes()}


def raw(**fields: object) -> bytes:
    packed: bytes = msgpack.packb({"schema_version": 1, **fields}, use_bin_type=True)
    return packed


CASES = {
    "garbage bytes": (GENERATOR_LATENTS, b"\xc1\xc1\xc1", 400, "msgpack"),
    "not a map": (GENERATOR_LATENTS, msgpack.packb([1, 2]), 400, "must be a map"),
    "missing field": (GENERATOR_LATENTS, raw(), 400, "invalid LatentRequest"),
    "unknown field": (GENERATOR_LATENTS, raw(z=tensor(torch.zeros(1, 64)), extra=1), 400, "extra"),
    "wrong version": (GENERATOR_LATENTS, raw(z=tensor(torch.zeros(1, 64)), schema_version=2), 400, "schema_version"),
    "float64 z": (GENERATOR_LATENTS, raw(z=tensor(torch.zeros(2, 64, dtype=torch.float64))), 400, "float32"),
    "int z": (GENERATOR_LATENTS, raw(z=tensor(torch.zeros(2, 64, dtype=torch.int64))), 400, "float32"),
    "z not a tensor": (GENERATOR_LATENTS, raw(z=[1.0, 2.0]), 400, "Tensor"),
    "rank-3 z": (GENERATOR_LATENTS, raw(z=tensor(torch.zeros(2, 64, 1))), 400, "matrix"),
    "bytes not matching shape": (
        GENERATOR_LATENTS,
        raw(z={"dtype": "float32", "shape": [2, 64], "bytes": b"\0" * 12}),
        400,
        "do not match",
    ),
    "wrong z width": (GENERATOR_LATENTS, raw(z=tensor(torch.zeros(2, 63))), 422, "[n, 64]"),
    "NaN z": (GENERATOR_LATENTS, raw(z=tensor(torch.full((2, 64), float("nan")))), 400, "NaN"),
    "Inf w": (GENERATOR_IMAGES, raw(w=tensor(torch.full((2, 64), float("inf")))), 400, "infinite"),
    "too many latents": (GENERATOR_LATENTS, raw(z=tensor(torch.zeros(65, 64))), 413, "limit of 64"),
    "too many images": (GENERATOR_IMAGES, raw(w=tensor(torch.zeros(65, 64))), 413, "limit of 64"),
    "wrong w width": (GENERATOR_IMAGES, raw(w=tensor(torch.zeros(2, 65))), 422, "[n, 64]"),
    "2-channel shape": (GENERATOR_IMAGES, raw(w=tensor(torch.zeros(2, 64)), shape=[2, 28, 28]), 400, "shape"),
    "zero-size shape": (GENERATOR_IMAGES, raw(w=tensor(torch.zeros(2, 64)), shape=[1, 0, 28]), 400, "shape"),
    "deeply nested maps": (
        GENERATOR_LATENTS,
        msgpack.packb({"z": [[{}] * 1000 for _ in range(60)]}),
        400,
        "maps and arrays",
    ),
    "a long array": (
        GENERATOR_LATENTS,
        b"\x91\xdd" + (60_000).to_bytes(4, "big") + b"\x80" * 60_000,
        400,
        "max_array_len",
    ),
    "images over the codec limit": (
        GENERATOR_IMAGES,
        raw(w=tensor(torch.zeros(5, 64)), shape=[3, 4096, 4096]),
        413,
        "elements",
    ),
}


@pytest.fixture(autouse=True)
def _still_healthy(client: httpx.Client) -> Iterator[None]:
    """After every bad request the service answers health checks and a good request as before."""
    yield
    assert client.get(HEALTHZ).status_code == 200
    assert client.get(READYZ).status_code == 200
    good = client.post(GENERATOR_LATENTS, content=encode(LatentRequest(z=torch.zeros(1, 64))), headers=HEADERS)
    assert good.status_code == 200


def assert_refused(reply: httpx.Response, status: int, words: str) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert words in reply.json()["detail"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_bodies_are_refused_with_a_reason(client: httpx.Client, case: str) -> None:
    path, body, status, words = CASES[case]
    assert_refused(client.post(path, content=body, headers=HEADERS), status, words)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_wrong_content_type_is_415(client: httpx.Client, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    body = encode(ImageRequest(w=torch.zeros(1, 64)))
    assert_refused(client.post(GENERATOR_IMAGES, content=body, headers=headers), 415, MSGPACK)


def test_content_type_parameters_are_accepted(client: httpx.Client) -> None:
    body = encode(ImageRequest(w=torch.zeros(1, 64)))
    reply = client.post(GENERATOR_IMAGES, content=body, headers={"content-type": f"{MSGPACK}; charset=binary"})
    assert reply.status_code == 200


def test_declared_body_over_the_limit_is_413(client: httpx.Client) -> None:
    assert_refused(client.post(GENERATOR_LATENTS, content=b"\0" * (LIMIT + 1), headers=HEADERS), 413, "exceeds")


def test_streamed_body_over_the_limit_is_413_without_content_length(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // 4096 + 2):
            yield b"\0" * 4096

    reply = client.post(GENERATOR_LATENTS, content=chunks(), headers=HEADERS)  # chunked transfer encoding
    assert_refused(reply, 413, "exceeds")


def test_unknown_route_and_method_are_4xx(client: httpx.Client) -> None:
    assert client.get("/v1/nothing").status_code == 404
    assert client.get(GENERATOR_IMAGES).status_code == 405


def test_refusals_are_counted_by_status_and_unknown_paths_by_one_label(client: httpx.Client) -> None:
    client.post(GENERATOR_LATENTS, content=b"\xc1", headers=HEADERS)
    client.get("/v1/no/such/path")
    text = client.get(PROMETHEUS).text
    assert 'fedloom_generator_requests_total{route="/v1/latents",method="POST",status="400"}' in text
    assert 'fedloom_generator_requests_total{route="unmatched",method="GET",status="404"}' in text
    assert "/v1/no/such/path" not in text
