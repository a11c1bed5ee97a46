"""msgpack codec for wire messages. Tensors cross as a map `{dtype, shape, bytes}`.

Decoding never unpickles anything and checks every limit before it allocates: total message size,
tensor dtype, rank, element count, and that the byte length matches dtype x shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeVar

import msgpack
import torch
from pydantic import BaseModel, ValidationError

from fedloom.errors import WireError

M = TypeVar("M", bound=BaseModel)

_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
    "int64": torch.int64,
    "int32": torch.int32,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}
_TENSOR_KEYS = frozenset({"dtype", "shape", "bytes"})


@dataclass(frozen=True)
class CodecLimits:
    """Upper bounds a decoder enforces; the defaults suit prototypes, heads and generated images.

    The msgpack bounds stop a small body from claiming huge containers: without them a megabyte of empty
    maps is a million Python dicts (about 100 times the body in memory) before any field is checked."""

    max_message_bytes: int = 256 * 1024 * 1024
    max_tensor_elements: int = 64 * 1024 * 1024
    max_rank: int = 6
    max_map_len: int = 4096  # fields, tensors of a message (a model's parameters: a few hundred)
    max_array_len: int = 1024  # tensor shapes, short lists
    max_str_len: int = 64 * 1024
    max_containers: int = 16384  # maps and arrays in the whole message, however nested


MAX_ERROR_CHARS = 500
"""Error messages name what is wrong, never repeat the input, and stay short."""


DEFAULT_LIMITS = CodecLimits()


def _pack_tensor(t: torch.Tensor) -> dict[str, Any]:
    if t.dtype not in _NAMES:
        raise WireError(f"dtype {t.dtype} cannot cross the wire; use one of {sorted(_DTYPES)}")
    flat = t.detach().to("cpu").contiguous()
    raw = flat.reshape(-1).view(torch.uint8).numpy().tobytes() if flat.numel() else b""
    return {"dtype": _NAMES[t.dtype], "shape": list(flat.shape), "bytes": raw}


def _unpack_tensor(obj: dict[str, Any], limits: CodecLimits) -> torch.Tensor:
    dtype = _DTYPES.get(obj["dtype"]) if isinstance(obj["dtype"], str) else None
    shape = obj["shape"]
    raw = obj["bytes"]
    if dtype is None:
        raise WireError(f"tensor dtype {obj['dtype']!r} is not allowed")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise WireError(f"tensor shape {str(shape)[:100]} is not a list of non-negative integers")
    if len(shape) > limits.max_rank:
        raise WireError(f"tensor rank {len(shape)} exceeds the limit {limits.max_rank}")
    numel = math.prod(shape)
    if math.prod(max(d, 1) for d in shape) > limits.max_tensor_elements:  # also empty tensors with absurd sides
        raise WireError(f"tensor of shape {shape} exceeds the limit of {limits.max_tensor_elements} elements")
    itemsize = dtype.itemsize
    if not isinstance(raw, bytes) or len(raw) != numel * itemsize:
        raise WireError(f"tensor bytes do not match dtype {obj['dtype']} and shape {shape}")
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


def _default(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return _pack_tensor(obj)
    raise WireError(f"cannot encode a {type(obj).__name__}")


def encode(message: BaseModel) -> bytes:
    """Serialise a wire message to msgpack bytes."""
    return msgpack.packb(encode_fields(message), default=_default, use_bin_type=True)


def encode_fields(message: BaseModel) -> dict[str, Any]:
    """A message as a plain dict whose nested messages are dicts too (tensors left as tensors)."""
    out: dict[str, Any] = {}
    for name in type(message).model_fields:
        value = getattr(message, name)
        out[name] = encode_fields(value) if isinstance(value, BaseModel) else value
    return out


def decode(data: bytes, model: type[M], limits: CodecLimits = DEFAULT_LIMITS) -> M:
    """Parse msgpack bytes into `model`, or raise `WireError` saying what is wrong."""
    if len(data) > limits.max_message_bytes:
        raise WireError(f"message of {len(data)} bytes exceeds the limit {limits.max_message_bytes}")

    containers = 0

    def counted(obj: Any) -> Any:
        nonlocal containers
        containers += 1
        if containers > limits.max_containers:
            raise WireError(f"message holds more than {limits.max_containers} maps and arrays")
        return obj

    def hook(obj: dict[Any, Any]) -> Any:
        counted(obj)
        return _unpack_tensor(obj, limits) if obj.keys() == _TENSOR_KEYS else obj

    try:
        body = msgpack.unpackb(
            data,
            object_hook=hook,
            list_hook=counted,
            raw=False,
            strict_map_key=False,
            max_map_len=limits.max_map_len,
            max_array_len=limits.max_array_len,
            max_str_len=limits.max_str_len,
            max_bin_len=limits.max_message_bytes,
            max_ext_len=0,
        )
    except WireError:
        raise
    except Exception as exc:  # msgpack raises many types for malformed input
        raise WireError(f"not a valid msgpack message: {type(exc).__name__}: {str(exc)[:200]}") from exc
    if not isinstance(body, dict):
        raise WireError(f"a message must be a map, got {type(body).__name__}")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise WireError(f"invalid {model.__name__}: {validation_summary(exc)}") from exc


def validation_summary(exc: ValidationError) -> str:
    """Where and what, for the first few errors: no input values (they can be large, or secret)."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5]]
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return ("; ".join(parts) + more)[:MAX_ERROR_CHARS]
