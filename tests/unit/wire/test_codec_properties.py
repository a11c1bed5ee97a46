"""Property tests of the codec: any bytes decode into a valid message or raise WireError, nothing else.

The strategies reach past random noise: well-formed msgpack maps with the messages' field names,
tensor maps with any dtype name, any shape (huge, negative, zero-sized, non-integer) and any byte
count, nested as deep as the messages nest. A WireError is what the services answer with a 4xx.
"""

from __future__ import annotations

from typing import Any

import msgpack
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from fedloom.errors import WireError
from fedloom.wire import (
    ClientUpdate,
    CodecLimits,
    EvalReport,
    GenerationResult,
    GlobalPayload,
    ImageRequest,
    ImageResponse,
    LatentRequest,
    RoundTask,
    decode,
    encode,
)

MESSAGES: list[type[BaseModel]] = [
    ClientUpdate,
    GlobalPayload,
    RoundTask,
    EvalReport,
    LatentRequest,
    ImageRequest,
    ImageResponse,
    GenerationResult,
]
SMALL = CodecLimits(max_message_bytes=1 << 20, max_tensor_elements=1 << 16, max_rank=6)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELD_NAMES = sorted({name for m in MESSAGES for name in m.model_fields} | {"x", ""})
DTYPES = ["float32", "float16", "bfloat16", "float64", "int64", "int32", "uint8", "bool", "complex64", "", "f4"]

dims = st.one_of(st.integers(0, 8), st.integers(-3, 2**64 - 1), st.booleans(), st.floats(), st.text(max_size=3))
tensors = st.fixed_dictionaries(
    {
        "dtype": st.one_of(st.sampled_from(DTYPES), st.integers(-(2**63), 2**63), st.none()),
        "shape": st.one_of(st.lists(dims, max_size=8), st.integers(0, 9), st.none(), st.binary(max_size=4)),
        "bytes": st.one_of(st.binary(max_size=256), st.text(max_size=8), st.integers(0, 9), st.none()),
    }
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(),
    st.text(max_size=12),
    st.binary(max_size=16),
)
values = st.recursive(
    st.one_of(scalars, tensors),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=4), inner, max_size=5),
    ),
    max_leaves=20,
)
messages = st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=8).map(
    lambda body: body | {"schema_version": 1}
)


def decoded_or_refused(data: bytes, model: type[BaseModel]) -> BaseModel | None:
    """The decoded message, or None for a WireError; any other exception fails the property."""
    try:
        message = decode(data, model, SMALL)
    except WireError as exc:
        assert str(exc) and "frame #" not in str(exc)  # a refusal says why, in words, not a C++ trace
        return None
    assert isinstance(message, model)
    return message


@PROPERTY
@given(data=st.binary(max_size=2048), model=st.sampled_from(MESSAGES))
def test_any_byte_string_decodes_or_is_refused(data: bytes, model: type[BaseModel]) -> None:
    decoded_or_refused(data, model)


@PROPERTY
@given(body=messages, model=st.sampled_from(MESSAGES))
def test_any_msgpack_map_with_message_fields_and_tensor_maps_decodes_or_is_refused(
    body: dict[str, Any], model: type[BaseModel]
) -> None:
    decoded_or_refused(msgpack.packb(body, use_bin_type=True), model)


@PROPERTY
@given(
    tensor=tensors,
    envelope=st.sampled_from(["tensors", "values"]),
    cut=st.integers(0, 64),
)
@example(tensor={"dtype": "float32", "shape": [0, 2**63], "bytes": b""}, envelope="tensors", cut=0)
@example(tensor={"dtype": "float32", "shape": [0, 2**40, 2**40], "bytes": b""}, envelope="tensors", cut=0)
@example(tensor={"dtype": "uint8", "shape": [True, 1], "bytes": b"\0"}, envelope="tensors", cut=0)
def test_an_update_with_any_tensor_map_decodes_or_is_refused_also_when_truncated(
    tensor: dict[str, Any], envelope: str, cut: int
) -> None:
    body = {"schema_version": 1, "round": 0, "client_id": 0, "num_samples": 1, envelope: {"p": tensor}}
    data = msgpack.packb(body, use_bin_type=True)
    decoded_or_refused(data, ClientUpdate)
    decoded_or_refused(data[: max(0, len(data) - cut)], ClientUpdate)


finite = st.floats(allow_nan=False, allow_infinity=False, width=32)


@PROPERTY
@given(
    rows=st.integers(0, 6),
    cols=st.integers(0, 6),
    round_=st.integers(0, 2**31),
    client=st.integers(0, 2**31),
    numbers=st.dictionaries(st.text(max_size=6), finite, max_size=3),
    fill=finite,
)
def test_valid_updates_round_trip_exactly(
    rows: int, cols: int, round_: int, client: int, numbers: dict[str, float], fill: float
) -> None:
    tensors = {"classes": torch.arange(rows), "prototypes": torch.full((rows, cols), fill)}
    update = ClientUpdate(round=round_, client_id=client, num_samples=rows, tensors=tensors, values=numbers)
    back = decode(encode(update), ClientUpdate, SMALL)
    assert (back.round, back.client_id, back.values) == (round_, client, numbers)
    assert all(torch.equal(back.tensors[k], v) for k, v in tensors.items())


@PROPERTY
@given(data=st.binary(min_size=1, max_size=64))
def test_a_message_over_the_size_limit_is_refused_before_parsing(data: bytes) -> None:
    tiny = CodecLimits(max_message_bytes=len(data) - 1)
    try:
        decode(data, ClientUpdate, tiny)
    except WireError as exc:
        assert "exceeds the limit" in str(exc)
    else:
        raise AssertionError("an oversized message was decoded")
