"""Safe decoding of the tensors inside a network pickle (stylegan3.md section 1.2, "Tensors").

A storage is pickled as `torch.storage._load_from_bytes(b)`, where `b` is torch's legacy (non-zip)
single-storage payload: five small pickles (magic, version, system info, the storage as a persistent
id, the key list), then an int64 element count and the raw little-endian data. We parse it ourselves
with an unpickler that only knows `torch.<X>Storage`, so nothing in the payload can run code.
"""

from __future__ import annotations

import io
import math
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from fedloom.generation.stylegan3.errors import NetworkFormatError, UnsafePickleError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
STORAGE_DTYPES: dict[str, torch.dtype] = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


@dataclass
class LoadBudget:
    """Bytes one load may allocate for tensors and arrays, in proportion to the file's size: a pickle can name
    one storage many times (its memo), so without a budget a tiny file could unpack to any size."""

    limit: int
    used: int = 0

    def charge(self, nbytes: int, what: str) -> None:
        self.used += nbytes
        if self.used > self.limit:
            raise NetworkFormatError(f"{what}: the file unpacks to more than {self.limit:,} bytes (its budget)")


class _Refuse:
    """Base of our stand-in results: a pickle BUILD on them is refused (they carry no state)."""

    def __setstate__(self, state: Any) -> None:
        raise NetworkFormatError(f"unexpected BUILD on a {type(self).__name__}")


class StorageData(_Refuse):
    """A decoded storage: a flat tensor of its dtype."""

    def __init__(self, flat: torch.Tensor) -> None:
        self.flat = flat


class TensorData(_Refuse):
    """A rebuilt tensor (`.tensor`), contiguous and owning its memory."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor


@dataclass(frozen=True)
class _StorageType:
    name: str


@dataclass(frozen=True)
class _StorageRef:
    dtype: torch.dtype
    key: str
    numel: int


class _PayloadUnpickler(pickle.Unpickler):
    """Reads the small pickles of a legacy storage payload; the only global is `torch.<X>Storage`."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafePickleError(f"refusing global {module}.{name} inside a tensor storage payload")

    def persistent_load(self, pid: Any) -> _StorageRef:
        ok = isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"
        if not ok or not isinstance(pid[1], _StorageType) or not isinstance(pid[2], str):
            raise NetworkFormatError(f"unexpected persistent id in a storage payload: {pid!r}")
        numel, view = pid[4], pid[5]
        if type(numel) is not int or numel < 0 or view is not None:
            raise NetworkFormatError(f"unexpected storage record {pid!r}")
        return _StorageRef(STORAGE_DTYPES[pid[1].name], pid[2], numel)


def _load_small(f: io.BytesIO) -> Any:
    return _PayloadUnpickler(f, fix_imports=False).load()


def load_storage_bytes(payload: Any, budget: LoadBudget) -> StorageData:
    """Decode one legacy storage payload into a flat tensor (stands in for `_load_from_bytes`)."""
    if not isinstance(payload, bytes | bytearray):
        raise NetworkFormatError(f"storage payload must be bytes, got {type(payload).__name__}")
    f = io.BytesIO(payload)
    if _load_small(f) != LEGACY_MAGIC or _load_small(f) != LEGACY_PROTOCOL:
        raise NetworkFormatError("storage payload is not in torch's legacy serialisation format")
    sys_info = _load_small(f)
    if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
        raise NetworkFormatError(f"unsupported storage system info {sys_info!r}")
    ref = _load_small(f)
    if not isinstance(ref, _StorageRef) or _load_small(f) != [ref.key]:
        raise NetworkFormatError("storage payload must hold exactly one storage")
    count = int.from_bytes(f.read(8), "little", signed=True)
    itemsize = torch.empty((), dtype=ref.dtype).element_size()
    data = f.read(ref.numel * itemsize)
    if count != ref.numel or len(data) != ref.numel * itemsize or f.read(1):
        raise NetworkFormatError("storage payload size does not match its header")
    if ref.numel == 0:
        return StorageData(torch.empty(0, dtype=ref.dtype))
    budget.charge(len(data), "a tensor storage")
    return StorageData(torch.frombuffer(bytearray(data), dtype=ref.dtype))


def _int_tuple(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, Sequence) or not all(type(v) is int and v >= 0 for v in value):
        raise NetworkFormatError(f"tensor {what} must be a tuple of non-negative ints, got {value!r}")
    return tuple(value)


def check_layout(shape: tuple[int, ...], strides: tuple[int, ...], offset: int, stored: int) -> None:
    """A layout torch itself writes: the view's elements are distinct elements of the storage (no zero or
    overlapping strides), so a tensor never holds more elements than its storage does from `offset` on."""
    numel = math.prod(shape)
    if offset > stored or numel > stored - offset:
        raise NetworkFormatError(f"tensor of size {shape} claims {numel} elements, its storage holds {stored - offset}")
    extent = 1  # elements spanned by the dimensions with smaller strides
    for s, n in sorted((s, n) for n, s in zip(shape, strides, strict=True) if n > 1 and numel > 0):
        if s < extent:
            raise NetworkFormatError(f"tensor of size {shape} with strides {strides} reuses storage elements")
        extent = s * (n - 1) + extent
    if numel > 0 and offset + extent > stored:
        raise NetworkFormatError(f"tensor of size {shape} reaches past its storage of {stored} elements")


def rebuild_tensor(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any = False,
    backward_hooks: Any = None,
    metadata: Any = None,
    *,
    budget: LoadBudget,
) -> TensorData:
    """Stand-in for `torch._utils._rebuild_tensor_v2`: a layout-checked strided view, copied out."""
    del requires_grad, metadata
    if not isinstance(storage, StorageData):
        raise NetworkFormatError("tensor storage must come from a decoded storage payload")
    if backward_hooks is not None and (not isinstance(backward_hooks, Mapping) or backward_hooks):
        raise NetworkFormatError("tensors with backward hooks are not supported")
    shape, strides = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if type(storage_offset) is not int or storage_offset < 0 or len(shape) != len(strides):
        raise NetworkFormatError(f"bad tensor layout: offset {storage_offset!r}, size {shape}, stride {strides}")
    flat = storage.flat
    check_layout(shape, strides, storage_offset, flat.numel())
    budget.charge(math.prod(shape) * flat.element_size(), f"a tensor of size {shape}")
    out = torch.empty(shape, dtype=flat.dtype)
    if out.numel() > 0:
        out.copy_(flat.as_strided(shape, strides, storage_offset))
    return TensorData(out)


def rebuild_parameter(data: Any, requires_grad: Any = False, backward_hooks: Any = None) -> TensorData:
    """Stand-in for `torch._utils._rebuild_parameter`: the plain tensor."""
    if not isinstance(data, TensorData):
        raise NetworkFormatError("a parameter must wrap a tensor")
    return data


def rebuild_parameter_with_state(
    data: Any, requires_grad: Any = False, backward_hooks: Any = None, state: Any = None
) -> TensorData:
    """Stand-in for `torch._utils._rebuild_parameter_with_state`: the plain tensor, state ignored."""
    return rebuild_parameter(data)
