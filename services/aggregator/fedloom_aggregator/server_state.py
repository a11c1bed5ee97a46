"""A server half's state as named tensors plus JSON scalars, and back: what a restarted aggregator resumes
from.

Works for every state the plug-ins keep: a plain number, or a dataclass (frozen or not) whose fields are
tensors, Modules (by state_dict and train/eval mode), torch.Generators (by their state), numbers, strings,
dicts of numbers, of tensors or of shapes, optimisers, or None. The environment and the image generator are
rebuilt by the server's `init` and skipped. Any other field type raises, so a plug-in whose state cannot be
saved fails at its first round instead of resuming wrongly. Restoring goes into a state fresh from `init`
with the same environment; Modules and generators are filled in place, so the result computes bit for bit
what the saved one would.

Stored as one safetensors object (no pickle): tensors by name, the scalars as JSON in its metadata.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from fedloom.algorithms.base import ServerEnv
from fedloom.errors import FedLoomError
from fedloom.stores.protocol import ArtifactStore

Tensors = dict[str, torch.Tensor]
Scalars = dict[str, Any]
PLAIN = (bool, int, float, str, type(None))
LOOP_RNG, NEXT_ROUND = "#loop_rng", "#next_round"


class StateNotSaved(FedLoomError):
    """The server state holds something this module cannot save or restore."""


def _plain(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu").contiguous().clone()


def _rebuilt_by_init(value: Any) -> bool:
    """The environment and the image generator: made again by `init`, never saved."""
    return isinstance(value, ServerEnv) or (hasattr(value, "synthesize") and hasattr(value, "sample_latents"))


def _number_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, PLAIN) for k, v in value.items())


def _tensor_map(value: Any) -> bool:
    """Tensors by name or by id (a shared model's parameters, a count per client)."""
    return isinstance(value, dict) and all(
        isinstance(k, str | int) and isinstance(v, torch.Tensor) for k, v in value.items()
    )


def _shape_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, tuple) for k, v in value.items())


def _capture_field(name: str, value: Any, tensors: Tensors, scalars: Scalars) -> None:
    if _rebuilt_by_init(value):
        return
    if isinstance(value, PLAIN) or _number_map(value):
        scalars[name] = value
    elif isinstance(value, torch.Tensor):
        tensors[name] = _plain(value)
    elif _tensor_map(value):
        tensors.update({f"{name}/{k}": _plain(t) for k, t in value.items()})
        scalars[f"{name}#tensors"] = [[k, isinstance(k, int)] for k in value]  # keys in order, with their type
    elif _shape_map(value):
        scalars[f"{name}#shapes"] = {k: list(v) for k, v in value.items()}
    elif isinstance(value, nn.Module):
        tensors.update({f"{name}/{k}": _plain(t) for k, t in value.state_dict().items()})
        scalars[f"{name}#training"] = value.training
    elif isinstance(value, torch.Generator):
        tensors[f"{name}#rng"] = value.get_state().clone()
    elif isinstance(value, torch.optim.Optimizer):  # e.g. Adam's moments, kept across rounds
        saved = value.state_dict()
        tensors.update({f"{name}/{pid}/{k}": _plain(t) for pid, st in saved["state"].items() for k, t in st.items()})
        scalars[f"{name}#param_groups"] = saved["param_groups"]
    else:
        raise StateNotSaved(f"server state field {name!r} is a {type(value).__name__}, which cannot be saved")


def capture(state: Any) -> tuple[Tensors, Scalars]:
    """Everything of `state` that changes from round to round."""
    if isinstance(state, PLAIN):
        return {}, {"value": state}
    if not dataclasses.is_dataclass(state) or isinstance(state, type):
        raise StateNotSaved(f"a server state of type {type(state).__name__} cannot be saved")
    tensors: Tensors = {}
    scalars: Scalars = {}
    for f in dataclasses.fields(state):
        _capture_field(f.name, getattr(state, f.name), tensors, scalars)
    return tensors, scalars


def _under(prefix: str, tensors: Mapping[str, torch.Tensor]) -> Tensors:
    start = f"{prefix}/"
    return {k[len(start) :]: v for k, v in tensors.items() if k.startswith(start)}


def _restore_field(name: str, current: Any, tensors: Tensors, scalars: Scalars, changes: dict[str, Any]) -> None:
    if _rebuilt_by_init(current):
        return
    if isinstance(current, nn.Module):
        current.load_state_dict(_under(name, tensors))
        current.train(bool(scalars.get(f"{name}#training", current.training)))
    elif isinstance(current, torch.Generator):
        current.set_state(tensors[f"{name}#rng"])
    elif isinstance(current, torch.optim.Optimizer):
        current.load_state_dict(_optimizer_state(_under(name, tensors), scalars[f"{name}#param_groups"]))
    elif name in tensors:
        device = current.device if isinstance(current, torch.Tensor) else torch.device("cpu")
        changes[name] = tensors[name].to(device)
    elif f"{name}#tensors" in scalars:
        saved = _under(name, tensors)
        changes[name] = {int(k) if is_int else k: saved[str(k)] for k, is_int in scalars[f"{name}#tensors"]}
    elif f"{name}#shapes" in scalars:
        changes[name] = {k: tuple(v) for k, v in scalars[f"{name}#shapes"].items()}
    elif name in scalars:
        changes[name] = scalars[name]


def _optimizer_state(tensors: Tensors, groups: list[dict[str, Any]]) -> dict[str, Any]:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, t in tensors.items():
        pid, field = key.split("/", 1)
        state.setdefault(int(pid), {})[field] = t
    return {"state": state, "param_groups": groups}


def restore(fresh: Any, tensors: Tensors, scalars: Scalars) -> Any:
    """`fresh` (from the server's `init`, or a state to roll back) with the captured values put back."""
    if isinstance(fresh, PLAIN):
        return scalars["value"]
    changes: dict[str, Any] = {}
    try:
        for f in dataclasses.fields(fresh):
            _restore_field(f.name, getattr(fresh, f.name), tensors, scalars, changes)
    except (RuntimeError, KeyError) as exc:
        raise StateNotSaved(f"the saved server state does not fit this algorithm: {exc}") from exc
    return dataclasses.replace(fresh, **changes)


def to_bytes(tensors: Tensors, scalars: Scalars) -> bytes:
    return save_tensors(tensors, metadata={"scalars": json.dumps(scalars)})


def from_bytes(data: bytes) -> tuple[Tensors, Scalars]:
    """Read back `to_bytes`; the metadata sits in the safetensors header (8-byte length, then JSON)."""
    try:
        length = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8 : 8 + length])
        return load_tensors(data), json.loads(header.get("__metadata__", {}).get("scalars", "{}"))
    except (struct.error, ValueError, RuntimeError) as exc:  # safetensors raises its own error types too
        raise StateNotSaved(f"the saved server state is damaged: {exc}") from exc


def checkpoint_key(fid: str) -> str:
    return f"federations/{fid}/checkpoint/server.safetensors"


@dataclass
class ServerCheckpoints:
    """After each round: the server state and the round loop's RNG, saved over the previous ones."""

    artifacts: ArtifactStore

    def save(self, fid: str, next_round: int, state: Any, rng: torch.Generator) -> None:
        tensors, scalars = capture(state)
        tensors[LOOP_RNG] = rng.get_state().clone()
        scalars[NEXT_ROUND] = next_round
        self.artifacts.put(checkpoint_key(fid), to_bytes(tensors, scalars))

    def resume(self, fid: str, fresh: Any, rng: torch.Generator) -> tuple[Any, int]:
        """(state, first round to run): from the checkpoint when there is one, else (`fresh`, 0)."""
        if not self.artifacts.exists(checkpoint_key(fid)):
            return fresh, 0
        tensors, scalars = from_bytes(self.artifacts.get(checkpoint_key(fid)))
        rng.set_state(tensors.pop(LOOP_RNG))
        return restore(fresh, tensors, scalars), int(scalars.pop(NEXT_ROUND))
