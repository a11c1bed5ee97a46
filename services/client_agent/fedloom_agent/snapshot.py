"""A client's learnable state as a flat `{name: tensor}` map and back: model, algorithm state, RNG.

Names: `model/<key>` (model state_dict), `rng` (the client generator's state), `state/<name>` (a tensor
in ctx.state) and `state/<name>/<key>` (a Module in ctx.state, by its state_dict). Restoring fills what
the algorithm's `join` created in place (Modules must exist by then), keeping devices and memory
layouts, so a resumed client computes bit for bit what an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import torch
from torch import nn

from fedloom.algorithms.base import ClientContext
from fedloom_agent.errors import CheckpointError

StateKind = Literal["module", "tensor"]
Tensors = dict[str, torch.Tensor]

_TYPES: tuple[tuple[type, StateKind], ...] = ((nn.Module, "module"), (torch.Tensor, "tensor"))


def _plain(t: torch.Tensor) -> torch.Tensor:
    """A contiguous CPU copy that shares no storage (safetensors refuses shared tensors)."""
    return t.detach().to("cpu").contiguous().clone()


def _prefixed(prefix: str, state: Mapping[str, torch.Tensor]) -> Tensors:
    return {f"{prefix}/{key}": _plain(value) for key, value in state.items()}


def _under(prefix: str, tensors: Mapping[str, torch.Tensor]) -> Tensors:
    start = f"{prefix}/"
    return {key[len(start) :]: value for key, value in tensors.items() if key.startswith(start)}


def kind_of(name: str, value: Any) -> StateKind:
    for kind_type, kind in _TYPES:
        if isinstance(value, kind_type):
            return kind
    raise CheckpointError(f"ctx.state[{name!r}] is a {type(value).__name__}; only tensors and Modules are saved")


def _flatten_module(name: str, value: Any) -> Tensors:
    return _prefixed(f"state/{name}", value.state_dict())


def _flatten_tensor(name: str, value: Any) -> Tensors:
    return {f"state/{name}": _plain(value)}


def _load_module(ctx: ClientContext, name: str, tensors: Tensors) -> None:
    module = ctx.state.get(name)
    if not isinstance(module, nn.Module):
        raise CheckpointError(f"cannot restore module state {name!r}: the algorithm's join did not create it")
    module.load_state_dict(_under(f"state/{name}", tensors))


def _load_tensor(ctx: ClientContext, name: str, tensors: Tensors) -> None:
    """Copy into the tensor `join` made when it fits (keeps its device, dtype and memory layout), else set it."""
    saved, current = tensors[f"state/{name}"], ctx.state.get(name)
    if isinstance(current, torch.Tensor) and current.shape == saved.shape and current.dtype == saved.dtype:
        current.copy_(saved)
    else:
        ctx.state[name] = saved.to(ctx.device)


FLATTEN: dict[StateKind, Callable[[str, Any], Tensors]] = {"module": _flatten_module, "tensor": _flatten_tensor}
LOAD: dict[StateKind, Callable[[ClientContext, str, Tensors], None]] = {"module": _load_module, "tensor": _load_tensor}


def snapshot(ctx: ClientContext) -> tuple[Tensors, dict[str, StateKind]]:
    """Everything of `ctx` that changes while it trains, and the kind of each ctx.state entry."""
    kinds = {name: kind_of(name, value) for name, value in ctx.state.items()}
    tensors = _prefixed("model", ctx.model.state_dict())
    tensors["rng"] = ctx.rng.get_state().clone()
    for name, kind in kinds.items():
        tensors.update(FLATTEN[kind](name, ctx.state[name]))
    return tensors, kinds


def restore(ctx: ClientContext, tensors: Tensors, kinds: Mapping[str, StateKind]) -> None:
    """Put a snapshot back into `ctx` (model, generator, ctx.state); raises CheckpointError if it does not fit."""
    try:
        ctx.model.load_state_dict(_under("model", tensors))
        ctx.rng.set_state(tensors["rng"])
        for name, kind in kinds.items():
            LOAD[kind](ctx, name, tensors)
    except (RuntimeError, KeyError) as exc:
        raise CheckpointError(f"the checkpoint does not fit this client's model or algorithm: {exc}") from exc
