"""The mentee's parameters on the wire, SVD-compressed (FedKD).

A parameter with at least 2 dims and a first dim > 1 is viewed as a matrix [shape[0], rest] (convolution
kernels as out x (in kh kw), not over their small kernel axes as HtFLlib did) and sent as `<name>.svd_u`
[m, r], `<name>.svd_s` [r], `<name>.svd_v` [r, n] when that is smaller than the matrix; otherwise, and for
1-d parameters, it is sent as it is under `<name>`. The receiver knows every shape and checks everything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from fedloom.algorithms.fedkd.math import svd_factors, svd_recover
from fedloom.algorithms.model_parts import TensorMap, check_part
from fedloom.errors import WireError

FACTORS = (".svd_u", ".svd_s", ".svd_v")


def compress(params: Mapping[str, torch.Tensor], energy: float) -> TensorMap:
    """Every parameter raw or as SVD factors keeping `energy`, whichever has fewer numbers."""
    out: TensorMap = {}
    for name, tensor in params.items():
        if tensor.dim() < 2 or tensor.shape[0] < 2:
            out[name] = tensor
            continue
        matrix = tensor.reshape(tensor.shape[0], -1).double()
        u, s, v = svd_factors(matrix, energy)
        if u.numel() + s.numel() + v.numel() >= matrix.numel():
            out[name] = tensor
            continue
        for suffix, factor in zip(FACTORS, (u, s, v), strict=True):
            out[name + suffix] = factor.float()
    return out


def expand(tensors: Mapping[str, torch.Tensor], shapes: Mapping[str, tuple[int, ...]]) -> TensorMap:
    """The full parameters from a compressed message; WireError on a missing, extra or malformed tensor."""
    raw = {name: tensors[name] for name in shapes if name in tensors}
    factored = [name for name in shapes if name not in tensors]
    expected_names = set(raw) | {name + suffix for name in factored for suffix in FACTORS}
    if set(tensors) != expected_names:
        extra, missing = set(tensors) - expected_names, expected_names - set(tensors)
        raise WireError(f"compressed model mismatch: missing {sorted(missing)[:5]}, unexpected {sorted(extra)[:5]}")
    check_part(raw, {name: shapes[name] for name in raw})
    out = dict(raw)
    for name in factored:
        out[name] = svd_recover(*checked_factors(tensors, name, shapes[name])).reshape(shapes[name])
    return out


def checked_factors(
    tensors: Mapping[str, torch.Tensor], name: str, shape: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """U, S, V of `name` after checking them against the parameter's shape (1 <= r <= min(m, n))."""
    if len(shape) < 2:
        raise WireError(f"{name!r} is {len(shape)}-d and must be sent as it is")
    m, n = shape[0], math.prod(shape[1:])
    factors = {name + suffix: tensors[name + suffix] for suffix in FACTORS}
    u, s, v = factors.values()
    rank = s.shape[0] if s.dim() == 1 else -1
    if not 1 <= rank <= min(m, n):
        raise WireError(f"{name!r}: the rank must lie in 1..{min(m, n)}, got {list(s.shape)}")
    check_part(factors, dict(zip(factors, [(m, rank), (rank,), (rank, n)], strict=True)))
    return u, s, v
