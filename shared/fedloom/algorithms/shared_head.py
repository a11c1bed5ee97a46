"""One global classifier head shared by every client (LG-FedAvg, FedGH, FedGen).

The server holds a head of the clients' shape, `Linear(feature_dim, num_classes)`, seeded from the run
seed (HtFLlib copied client 0's head: any common start works). It travels as parameters under
`head.`; a client overwrites its own head with it before training and before evaluation. A client
whose head has another shape gets a clear error instead of a crash deep inside a copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from fedloom.algorithms.base import ClientContext, ServerEnv
from fedloom.algorithms.model_parts import (
    average_parts,
    check_part,
    check_same_head_shapes,
    load_part,
    part_shapes,
    part_tensors,
    select_part,
)
from fedloom.algorithms.training import evaluate_head
from fedloom.errors import WireError
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

HEAD = "head."

Shapes = Mapping[str, tuple[int, ...]]


def linear_head_shapes(num_classes: int, feature_dim: int) -> dict[str, tuple[int, ...]]:
    """The parameter shapes of every FedLoom head, `Linear(feature_dim, num_classes)`, under `head.`."""
    return {HEAD + "weight": (num_classes, feature_dim), HEAD + "bias": (num_classes,)}


def check_shared_head(tensors: Mapping[str, torch.Tensor], expected: Shapes) -> None:
    """WireError unless the `head.` tensors have exactly the expected shapes; a shape clash says so plainly."""
    received = select_part(tensors, HEAD)
    for name in sorted(set(expected) & set(received)):
        check_same_head_shapes([expected[name], tuple(received[name].shape)], f"heads ({name})")
    check_part(received, expected)


def init_global_head(env: ServerEnv) -> nn.Linear:
    """The server's starting head, drawn from the run seed without touching the global RNG stream."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(env.seed)
        return nn.Linear(env.feature_dim, env.num_classes)


def head_tensors(head: nn.Module) -> dict[str, torch.Tensor]:
    return part_tensors(head, HEAD)


def receive_head(ctx: ClientContext, payload: GlobalPayload) -> None:
    """Overwrite the client's head with the shared one in `payload` (if it holds one)."""
    if not select_part(payload.tensors, HEAD):
        return
    check_shared_head(payload.tensors, part_shapes(ctx.model.head, HEAD))
    load_part(ctx.model.head, payload.tensors, HEAD)


def evaluate_shared_head(ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
    """Accuracy of the client's base under the published head (the server pushes it to every client)."""
    receive_head(ctx, payload)
    return evaluate_head(ctx, payload.round)


def average_heads(updates: Sequence[ClientUpdate], expected: Shapes) -> dict[str, torch.Tensor]:
    """Train-sample-weighted mean of the uploaded heads (LG-FedAvg), every upload checked first."""
    for update in updates:
        check_shared_head(update.tensors, expected)
    heads = [select_part(u.tensors, HEAD) for u in updates]
    weights = [float(u.num_samples) for u in updates]
    return average_parts(heads, weights if sum(weights) > 0 else None)


def set_head(head: nn.Module, tensors: Mapping[str, torch.Tensor]) -> None:
    load_part(head, tensors, HEAD)


def check_head_upload(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """An upload of exactly one head of the shared shape (LG-FedAvg)."""
    expected = linear_head_shapes(num_classes, feature_dim)
    check_shared_head(update.tensors, expected)
    extra = set(update.tensors) - set(expected)
    if extra:
        raise WireError(f"unexpected tensors in a head upload: {sorted(extra)[:5]}")
