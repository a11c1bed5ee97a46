"""From the records of a restricted-unpickled network file to init_kwargs + state_dict (stylegan3.md 1-2).

- `G_ema` is taken from the top-level dict by key (section 1.1); class names are not unique.
- The state_dict is the `_parameters` / `_buffers` / `_modules` tree joined with '.' (section 2 step 3).
- init_kwargs come from `G_ema`'s `_init_kwargs`, as plain JSON-able values (section 2 step 4).
- `cross_check` compares the per-layer attributes stored in the file with our schedule (section 3.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fedloom.errors import FedLoomError
from fedloom.generation.stylegan3.errors import NetworkFormatError
from fedloom.generation.stylegan3.network import Generator
from fedloom.generation.stylegan3.schedule import LayerSpec
from fedloom.generation.stylegan3.torch_storage import TensorData
from fedloom.generation.stylegan3.unpickler import NumpyArray, PersistentRecord, load_pickle_file

_MAX_DEPTH = 16
_LAYER_INT_ATTRS = (
    "in_channels",
    "out_channels",
    "in_sampling_rate",
    "out_sampling_rate",
    "tmp_sampling_rate",
    "up_factor",
    "up_taps",
    "down_factor",
    "down_taps",
    "conv_kernel",
    "is_torgb",
    "is_critically_sampled",
    "use_fp16",
    "down_radial",
)
_LAYER_FLOAT_ATTRS = ("in_cutoff", "out_cutoff", "in_half_width", "out_half_width")


@dataclass
class NetworkData:
    """A generator as stored: constructor kwargs, state_dict, and the `G_ema` record (None if not a pickle)."""

    init_kwargs: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    record: PersistentRecord | None = None


def read_network_pickle(path: str | Path) -> NetworkData:
    """Read an NVIDIA network pickle safely and extract `G_ema` (sections 1-2); every failure is ours."""
    record = generator_record(load_pickle_file(path))
    try:
        return NetworkData(init_kwargs_of(record), state_dict_of(record), record)
    except FedLoomError:
        raise
    except Exception as exc:  # a record of the right classes with contents of the wrong kinds
        raise NetworkFormatError(f"{path}: not a StyleGAN3 network: {type(exc).__name__}: {str(exc)[:200]}") from exc


def generator_record(top: Any) -> PersistentRecord:
    """`data['G_ema']` of a network pickle; a pickled bare Generator is accepted too."""
    if isinstance(top, Mapping):
        if "G_ema" not in top:
            raise NetworkFormatError(f"network pickle has no 'G_ema' (keys: {sorted(map(str, top))})")
        top = top["G_ema"]
    if not isinstance(top, PersistentRecord) or top.class_name != "Generator":
        raise NetworkFormatError("'G_ema' is not a persistent StyleGAN3 Generator object")
    return top


def _children(record: PersistentRecord, key: str) -> Mapping[str, Any]:
    value = record.state.get(key, {})
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise NetworkFormatError(f"{record.class_name}.{key} must be a dict with str keys")
    return value


def state_dict_of(record: PersistentRecord, prefix: str = "", depth: int = 0) -> dict[str, torch.Tensor]:
    """Flatten a record tree into a state_dict: own parameters, own buffers, then submodules."""
    if depth > _MAX_DEPTH:
        raise NetworkFormatError("module tree is too deep")
    skip = record.state.get("_non_persistent_buffers_set") or set()
    out: dict[str, torch.Tensor] = {}
    for group in ("_parameters", "_buffers"):
        for name, value in _children(record, group).items():
            if value is None or (group == "_buffers" and name in skip):
                continue
            if not isinstance(value, TensorData):
                raise NetworkFormatError(f"{prefix}{name} is not a tensor")
            out[prefix + name] = value.tensor
    for name, child in _children(record, "_modules").items():
        if child is None:
            continue
        if not isinstance(child, PersistentRecord):
            raise NetworkFormatError(f"{prefix}{name} is not a persistent module")
        out.update(state_dict_of(child, f"{prefix}{name}.", depth + 1))
    return out


def plain(value: Any, depth: int = 0) -> Any:
    """Turn unpickled values into plain JSON-able Python: EasyDict -> dict, numpy -> int/float/bool/list."""
    if depth > _MAX_DEPTH:
        raise NetworkFormatError("value is nested too deeply")
    if value is None or isinstance(value, bool | int | float | str) and not isinstance(value, np.generic):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, NumpyArray) and value.array is not None:
        return value.array.tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value]
    raise NetworkFormatError(f"unexpected {type(value).__name__} where a plain value was expected")


def init_kwargs_of(record: PersistentRecord) -> dict[str, Any]:
    """`G_ema`'s constructor kwargs as plain values (section 2 step 4); `_init_args` must be empty."""
    if record.state.get("_init_args", ()) not in ((), []):
        raise NetworkFormatError("Generator was built with positional arguments; expected keywords only")
    kwargs = plain(record.state.get("_init_kwargs"))
    if not isinstance(kwargs, dict):
        raise NetworkFormatError("Generator record lacks _init_kwargs")
    return kwargs


def _layer_expectations(spec: LayerSpec) -> dict[str, Any]:
    expected: dict[str, Any] = {name: getattr(spec, name) for name in _LAYER_INT_ATTRS + _LAYER_FLOAT_ATTRS}
    expected.update(in_size=[spec.in_size] * 2, out_size=[spec.out_size] * 2, padding=list(spec.padding))
    return expected


def _mismatches(where: str, attrs: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """Attributes present in the file that differ from ours (floats to 1e-9 relative)."""
    problems = []
    for name, want in expected.items():
        if name not in attrs:
            continue
        got = plain(attrs[name])
        if isinstance(want, float):
            same = isinstance(got, int | float) and bool(np.isclose(got, want, rtol=1e-9, atol=0))
        else:
            same = got == want
        if not same:
            problems.append(f"{where}.{name}: file has {got!r}, computed {want!r}")
    return problems


def cross_check(record: PersistentRecord, generator: Generator) -> None:
    """Compare the file's stored architecture attributes with the rebuilt generator (section 2 step 5)."""
    modules = _children(record, "_modules")
    synthesis = modules.get("synthesis")
    if not isinstance(synthesis, PersistentRecord):
        raise NetworkFormatError("G_ema has no synthesis network")
    syn = generator.synthesis
    problems = _mismatches("G_ema", record.state, {"num_ws": generator.num_ws})
    problems += _mismatches("synthesis", synthesis.state, {"layer_names": syn.layer_names, "num_ws": syn.num_ws})
    syn_modules = _children(synthesis, "_modules")
    spec = syn.input.spec
    inp = syn_modules.get("input")
    if isinstance(inp, PersistentRecord):
        want = {"channels": spec.channels, "size": [spec.size] * 2, "sampling_rate": spec.sampling_rate}
        problems += _mismatches("input", inp.state, {**want, "bandwidth": spec.bandwidth})
    for layer in syn.layers():
        rec = syn_modules.get(layer.spec.name)
        if isinstance(rec, PersistentRecord):
            problems += _mismatches(layer.spec.name, rec.state, _layer_expectations(layer.spec))
    if problems:
        raise NetworkFormatError("network file disagrees with the computed architecture: " + "; ".join(problems))
