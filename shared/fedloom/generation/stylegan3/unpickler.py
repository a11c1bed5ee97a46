"""A restricted unpickler for NVIDIA's StyleGAN3 network pickles (stylegan3.md section 2).

`find_class` answers from a fixed allow-list (section 1.2, "Other globals") with our own stand-ins;
anything else raises UnsafePickleError naming the global, before it could be called. A pickle cannot change
the stand-ins (BUILD and attribute writes on them are refused: functions are handed out as sealed wrappers,
made anew for each load, classes have a sealing metaclass), so nothing a file does persists into the next
load. Each load may allocate tensors and arrays up to a budget in proportion to the file's size. The persistent
objects' `module_src` is never compiled or executed: `_reconstruct_persistent_obj` becomes a function
that returns a plain `PersistentRecord`. numpy arrays, scalars and dtypes are rebuilt by our own code
from raw bytes, for plain numeric dtypes only.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from fedloom.generation.stylegan3 import torch_storage
from fedloom.generation.stylegan3.errors import NetworkFormatError, UnsafePickleError

PERSISTENCE_VERSION = 6
_NUMERIC_KINDS = "biufc"
BUDGET_PER_FILE_BYTE = 3
"""A load may allocate this many bytes of tensors and arrays per byte of the file (plus BUDGET_SLACK): the
storages' copies and the tensors rebuilt from them, about twice the file's size in a real network file."""
BUDGET_SLACK = 1 << 20


class Sealed(type):
    """Metaclass of the stand-in classes: their attributes cannot be set or deleted (by a pickle's BUILD)."""

    def __setattr__(cls, name: str, value: Any) -> None:
        raise NetworkFormatError(f"refusing to change {cls.__name__}.{name}")

    def __delattr__(cls, name: str) -> None:
        raise NetworkFormatError(f"refusing to change {cls.__name__}.{name}")


class AllowedFunction:
    """A function a pickle may call, sealed: BUILD and attribute writes are refused."""

    __slots__ = ("_call", "_name")
    _call: Callable[..., Any]
    _name: str

    def __init__(self, call: Callable[..., Any], name: str) -> None:
        object.__setattr__(self, "_call", call)
        object.__setattr__(self, "_name", name)

    def __call__(self, *args: Any) -> Any:
        return self._call(*args)

    def __setattr__(self, name: str, value: Any) -> None:
        raise NetworkFormatError(f"refusing to change the global {self._name}")

    def __setstate__(self, state: Any) -> None:
        raise NetworkFormatError(f"refusing BUILD on the global {self._name}")


@dataclass
class PersistentRecord:
    """What `torch_utils.persistence` stored for one object: its class name and `__dict__` (section 1.2)."""

    class_name: str
    state: dict[str, Any]
    module_src_sha256: str

    def __setstate__(self, state: Any) -> None:
        raise NetworkFormatError("unexpected BUILD on a persistent object")


def reconstruct_persistent_obj(meta: Any) -> PersistentRecord:
    """Stand-in for `torch_utils.persistence._reconstruct_persistent_obj`; ignores `module_src`."""
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise NetworkFormatError("persistent object meta must be a dict with type 'class'")
    if meta.get("version") != PERSISTENCE_VERSION:
        raise NetworkFormatError(f"unsupported persistence version {meta.get('version')!r}")
    class_name, state, src = meta.get("class_name"), meta.get("state"), meta.get("module_src")
    if not isinstance(class_name, str) or not isinstance(state, dict) or not isinstance(src, str):
        raise NetworkFormatError("persistent object meta lacks class_name, state or module_src")
    return PersistentRecord(class_name, state, hashlib.sha256(src.encode("utf-8", "replace")).hexdigest())


class NumpyDType(metaclass=Sealed):
    """Stand-in for `numpy.dtype` while unpickling: plain numeric dtypes only, no fields, no objects."""

    def __init__(self, spec: Any, align: Any = False, copy: Any = True) -> None:
        if not isinstance(spec, str) or len(spec) > 8:
            raise NetworkFormatError(f"unsupported numpy dtype {spec!r}")
        try:
            dtype = np.dtype(spec)
        except TypeError as exc:
            raise NetworkFormatError(f"unsupported numpy dtype {spec!r}") from exc
        if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            raise NetworkFormatError(f"refusing numpy dtype {spec!r}: only plain numeric dtypes are allowed")
        self.dtype = dtype

    def __setstate__(self, state: Any) -> None:
        ok = isinstance(state, tuple) and len(state) >= 5 and all(v is None for v in state[2:5])
        if not ok or state[1] not in ("<", ">", "|", "="):
            raise NetworkFormatError(f"unsupported numpy dtype state {state!r}")
        if state[1] in ("<", ">"):
            self.dtype = self.dtype.newbyteorder(state[1])


class NumpyNDArrayType(metaclass=Sealed):
    """Stand-in for the `numpy.ndarray` class argument of `_reconstruct`."""


class NumpyArray:
    """Stand-in for an ndarray under construction (`_reconstruct`, then BUILD); `.array` once built."""

    def __init__(self, budget: torch_storage.LoadBudget, subtype: Any, shape: Any = None, dtype: Any = None) -> None:
        if subtype is not NumpyNDArrayType:
            raise NetworkFormatError("numpy _reconstruct must build a plain numpy.ndarray")
        self.budget = budget
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) != 5 or not isinstance(state[2], NumpyDType):
            raise NetworkFormatError("unsupported numpy array state")
        _, shape, dtype, fortran, raw = state
        self.array = _array_from_bytes(raw, dtype, shape, "F" if fortran else "C", self.budget)


def _array_from_bytes(
    raw: Any, dtype: NumpyDType, shape: Any, order: str, budget: torch_storage.LoadBudget
) -> np.ndarray:
    if not isinstance(raw, bytes | bytearray) or not isinstance(shape, tuple):
        raise NetworkFormatError("numpy array data must be bytes with a tuple shape")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise NetworkFormatError(f"bad numpy array shape {shape!r}")
    if len(raw) != math.prod(shape) * dtype.dtype.itemsize:
        raise NetworkFormatError("numpy array data does not match its shape")
    budget.charge(len(raw), "a numpy array")
    return np.frombuffer(bytes(raw), dtype=dtype.dtype).reshape(shape, order=order).copy()  # type: ignore[call-overload]


def numpy_scalar(dtype: Any, data: Any) -> Any:
    """Stand-in for `numpy.core.multiarray.scalar`: a numpy scalar from raw bytes."""
    if not isinstance(dtype, NumpyDType) or not isinstance(data, bytes) or len(data) != dtype.dtype.itemsize:
        raise NetworkFormatError("unsupported numpy scalar")
    return np.frombuffer(data, dtype=dtype.dtype)[0]


def numpy_frombuffer(buf: Any, dtype: Any, shape: Any, order: Any, *, budget: torch_storage.LoadBudget) -> np.ndarray:
    """Stand-in for numpy's protocol-5 `_frombuffer(buf, dtype, shape, order)`."""
    if not isinstance(dtype, NumpyDType) or order not in ("C", "F"):
        raise NetworkFormatError("unsupported numpy buffer")
    return _array_from_bytes(buf, dtype, shape, order, budget)


def latin1_encode(obj: Any, encoding: Any = "latin1") -> bytes:
    """Stand-in for `_codecs.encode`, which protocol 2 uses to write bytes: latin-1 text only."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"refusing _codecs.encode({type(obj).__name__}, {encoding!r})")
    return obj.encode("latin1")


ALLOWED_CLASSES: dict[tuple[str, str], type] = {
    ("collections", "OrderedDict"): OrderedDict,  # built-in types: a pickle cannot change them either
    ("builtins", "set"): set,
    ("__builtin__", "set"): set,  # protocol <= 2 written by Python 3 with fix_imports
    ("dnnlib.util", "EasyDict"): dict,
    ("numpy", "dtype"): NumpyDType,
    ("numpy", "ndarray"): NumpyNDArrayType,
}
ALLOWED_FUNCTIONS: dict[tuple[str, str], Callable[..., Any]] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): reconstruct_persistent_obj,
    ("_codecs", "encode"): latin1_encode,
    ("torch._utils", "_rebuild_parameter"): torch_storage.rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): torch_storage.rebuild_parameter_with_state,
}
BUDGETED_FUNCTIONS: dict[tuple[str, str], Callable[..., Any]] = {  # they allocate: charged to the load
    ("torch._utils", "_rebuild_tensor_v2"): torch_storage.rebuild_tensor,
    ("torch.storage", "_load_from_bytes"): torch_storage.load_storage_bytes,
}
for _core in ("numpy.core", "numpy._core"):
    ALLOWED_FUNCTIONS[(f"{_core}.multiarray", "scalar")] = numpy_scalar
    BUDGETED_FUNCTIONS[(f"{_core}.numeric", "_frombuffer")] = numpy_frombuffer
    BUDGETED_FUNCTIONS[(f"{_core}.multiarray", "_reconstruct")] = NumpyArray
ALLOWED_GLOBALS = {*ALLOWED_CLASSES, *ALLOWED_FUNCTIONS, *BUDGETED_FUNCTIONS}


def _budgeted(target: Callable[..., Any], budget: torch_storage.LoadBudget) -> Callable[..., Any]:
    if target is NumpyArray:
        return lambda *args: NumpyArray(budget, *args)
    return lambda *args: target(*args, budget=budget)


class RestrictedUnpickler(pickle.Unpickler):
    """pickle.Unpickler whose globals come only from the allow-lists (section 2, step 1).

    It never falls back to `super().find_class`, and refuses persistent ids. Functions are handed out as
    sealed wrappers made for this load (those that allocate carry its budget).
    """

    def __init__(self, f: BinaryIO, budget: torch_storage.LoadBudget) -> None:
        super().__init__(f, fix_imports=False)
        self.budget = budget

    def find_class(self, module: str, name: str) -> Any:
        where = (module, name)
        if where in ALLOWED_CLASSES:
            return ALLOWED_CLASSES[where]
        if where in ALLOWED_FUNCTIONS:
            return AllowedFunction(ALLOWED_FUNCTIONS[where], f"{module}.{name}")
        if where in BUDGETED_FUNCTIONS:
            return AllowedFunction(_budgeted(BUDGETED_FUNCTIONS[where], self.budget), f"{module}.{name}")
        raise UnsafePickleError(f"refusing to load global '{module}.{name}': not needed by a StyleGAN3 network pickle")

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refusing a persistent id: not used by StyleGAN3 network pickles")


def load_restricted(f: BinaryIO, size: int) -> Any:
    """Unpickle one object from `f` (of `size` bytes) with the restricted unpickler; every failure is ours."""
    budget = torch_storage.LoadBudget(BUDGET_PER_FILE_BYTE * size + BUDGET_SLACK)
    try:
        return RestrictedUnpickler(f, budget).load()
    except (UnsafePickleError, NetworkFormatError):
        raise
    except MemoryError as exc:
        raise NetworkFormatError("not a valid network pickle: it asks for more memory than there is") from exc
    except Exception as exc:  # pickle, torch and numpy raise many kinds for damaged or hostile input
        raise NetworkFormatError(f"not a valid network pickle: {type(exc).__name__}: {str(exc)[:200]}") from exc


def load_pickle_file(path: str | Path) -> Any:
    """Unpickle a whole network file (all of G, D, G_ema, ... are decoded; section 2 step 2)."""
    with open(path, "rb") as f:
        return load_restricted(f, os.fstat(f.fileno()).st_size)
