import msgpack
import pytest
import torch

from fedloom.errors import WireError
from fedloom.wire import ClientUpdate, CodecLimits, GlobalPayload, RoundTask, decode, encode


def test_round_trip_keeps_every_dtype_shape_and_value() -> None:
    tensors = {
        "f32": torch.randn(3, 4),
        "f16": torch.randn(2).half(),
        "bf16": torch.randn(2).bfloat16(),
        "i64": torch.arange(5),
        "u8": torch.arange(6, dtype=torch.uint8).view(2, 3),
        "empty": torch.empty(0, 7),
        "scalar": torch.tensor(3.5),
    }
    update = ClientUpdate(round=2, client_id=7, num_samples=40, tensors=tensors, values={"loss": 0.25})
    back = decode(encode(update), ClientUpdate)
    assert back.round == 2 and back.client_id == 7 and back.values == {"loss": 0.25}
    for name, t in tensors.items():
        assert back.tensors[name].dtype == t.dtype
        assert back.tensors[name].shape == t.shape
        assert torch.equal(back.tensors[name], t)


def test_nested_task_round_trip_and_decoded_tensors_are_writable() -> None:
    task = RoundTask(kind="fit", round=1, client_id=0, payload=GlobalPayload(round=1, tensors={"p": torch.ones(2)}))
    back = decode(encode(task), RoundTask)
    back.payload.tensors["p"].add_(1)  # must not raise: decoded tensors own their memory
    assert torch.equal(back.payload.tensors["p"], torch.full((2,), 2.0))


def raw(body: dict[str, object]) -> bytes:
    return msgpack.packb(body, use_bin_type=True)


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        ({"dtype": "object", "shape": [1], "bytes": b"\0" * 8}, "not allowed"),
        ({"dtype": "float32", "shape": [3], "bytes": b"\0" * 8}, "do not match"),
        ({"dtype": "float32", "shape": [-1], "bytes": b""}, "non-negative"),
        ({"dtype": "float32", "shape": [1] * 9, "bytes": b"\0" * 4}, "rank"),
        ({"dtype": "float32", "shape": [1 << 40], "bytes": b""}, "exceeds"),
    ],
)
def test_bad_tensors_are_refused_with_a_reason(tensor: dict[str, object], message: str) -> None:
    body = {"schema_version": 1, "round": 0, "client_id": 0, "num_samples": 1, "tensors": {"t": tensor}}
    with pytest.raises(WireError, match=message):
        decode(raw(body), ClientUpdate)


def test_garbage_wrong_type_and_wrong_version_are_refused() -> None:
    with pytest.raises(WireError, match="msgpack"):
        decode(b"\xc1\xc1\xc1", ClientUpdate)
    with pytest.raises(WireError, match="must be a map"):
        decode(raw([1, 2]), ClientUpdate)  # type: ignore[arg-type]
    with pytest.raises(WireError, match="invalid ClientUpdate"):
        decode(raw({"schema_version": 2, "round": 0, "client_id": 0, "num_samples": 1}), ClientUpdate)
    with pytest.raises(WireError, match="invalid ClientUpdate"):
        decode(raw({"round": 0, "client_id": 0, "num_samples": 1, "extra": 1}), ClientUpdate)


def test_message_size_limit_is_checked_before_parsing() -> None:
    data = encode(ClientUpdate(round=0, client_id=0, num_samples=1, tensors={"t": torch.zeros(100)}))
    with pytest.raises(WireError, match="exceeds the limit"):
        decode(data, ClientUpdate, CodecLimits(max_message_bytes=64))
