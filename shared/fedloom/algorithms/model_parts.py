"""Model parts on the wire, for algorithms that exchange weights (FML, FedKD, FedMRL, LG-FedAvg, FedGen).

A part travels as named float32 tensors under one prefix (`"head."`, `"shared."`, ...). Only
*parameters* travel: BatchNorm running statistics (buffers) stay on the client that computed them,
so averaging never mixes statistics of different data. The server checks every upload against the
shapes it expects before it averages anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from fedloom.algorithms.weight_average import weighted_average
from fedloom.errors import WireError

TensorMap = dict[str, torch.Tensor]


def all_finite(t: torch.Tensor) -> bool:
    """Whether every value of a float32 (or narrower) tensor is finite, in one pass over it: their float64 sum
    cannot overflow, and it is NaN or infinite exactly when some value is (10x faster than `isfinite().all()`,
    which the clients paid for every tensor of every package)."""
    return math.isfinite(float(t.sum(dtype=torch.float64)))


def part_tensors(module: nn.Module, prefix: str) -> TensorMap:
    """The parameters of `module` as detached float32 CPU tensors named `prefix + name` (no buffers)."""
    return {prefix + name: p.detach().float().cpu().clone() for name, p in module.named_parameters()}


def part_shapes(module: nn.Module, prefix: str) -> dict[str, tuple[int, ...]]:
    return {prefix + name: tuple(p.shape) for name, p in module.named_parameters()}


def select_part(tensors: Mapping[str, torch.Tensor], prefix: str) -> TensorMap:
    """The tensors of one part (names starting with `prefix`) out of a message."""
    return {name: t for name, t in tensors.items() if name.startswith(prefix)}


def check_part(tensors: Mapping[str, torch.Tensor], expected: Mapping[str, tuple[int, ...]]) -> None:
    """WireError unless `tensors` holds exactly the expected names, float32, with the expected shapes, finite."""
    missing, extra = set(expected) - set(tensors), set(tensors) - set(expected)
    if missing or extra:
        raise WireError(f"model part mismatch: missing {sorted(missing)[:5]}, unexpected {sorted(extra)[:5]}")
    for name, shape in expected.items():
        t = tensors[name]
        if t.dtype != torch.float32 or tuple(t.shape) != shape:
            raise WireError(f"{name!r} must be float32 {list(shape)}, got {t.dtype} {list(t.shape)}")
        if not all_finite(t):
            raise WireError(f"{name!r} must be finite")


def load_part(module: nn.Module, tensors: Mapping[str, torch.Tensor], prefix: str) -> None:
    """Copy a part into `module`'s parameters in place (its buffers are left as they are)."""
    check_part(select_part(tensors, prefix), part_shapes(module, prefix))
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(tensors[prefix + name].to(device=p.device, dtype=p.dtype))


def average_parts(parts: Sequence[Mapping[str, torch.Tensor]], weights: Sequence[float] | None = None) -> TensorMap:
    """Weighted mean of same-named tensors (unweighted when `weights` is None); weights need not sum to 1.

    `fedloom.algorithms.weight_average.weighted_average`, the one weighted average, does the arithmetic.
    """
    return weighted_average([dict(part) for part in parts], [1.0] * len(parts) if weights is None else weights)


def check_same_head_shapes(shapes: Sequence[tuple[int, ...]], what: str = "heads") -> None:
    """Head-sharing algorithms need one head shape for every client: a clear error otherwise."""
    if len(set(shapes)) > 1:
        raise WireError(f"this algorithm shares {what} and needs identical shapes; got {sorted(set(shapes))}")
