"""A model every client holds a copy of, of one architecture: FML's meme, FedKD's mentee, FedMRL's small model.

The server builds it from `ServerEnv.reference_arch` (client 0's architecture unless configured) and names
that architecture in the bootstrap package (`shared_arch`, the name's ASCII bytes as uint8), so each client
builds the same model in `join`. Per round the server publishes the model's parameters under `shared.`
and averages the clients' uploads without weights (algorithms.md 1.4, 1.8, 1.13); BatchNorm buffers stay on
each client (`model_parts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from fedloom.algorithms.base import ClientContext, ServerEnv
from fedloom.algorithms.model_parts import (
    TensorMap,
    average_parts,
    check_part,
    load_part,
    part_shapes,
    part_tensors,
    select_part,
)
from fedloom.errors import ConfigError, WireError
from fedloom.models import ARCHITECTURES, build_model
from fedloom.models._common import InputShape, feature_pool
from fedloom.models.base import BaseHeadModel
from fedloom.models.step_linear import StepLinear
from fedloom.wire import ClientUpdate, GlobalPayload

SHARED = "shared."
SHARED_ARCH = "shared_arch"
MAX_NAME = 100


def arch_tensor(name: str) -> torch.Tensor:
    """An architecture name as a uint8 tensor of its ASCII bytes (the wire has tensors and floats only)."""
    return torch.tensor(list(name.encode("ascii")), dtype=torch.uint8)


def arch_name(tensors: dict[str, torch.Tensor]) -> str:
    """The architecture named in a bootstrap package; WireError unless it is a known architecture."""
    raw = tensors.get(SHARED_ARCH)
    if raw is None or raw.dtype != torch.uint8 or raw.dim() != 1 or not 0 < raw.numel() <= MAX_NAME:
        raise WireError(f"the bootstrap package must name the shared model's architecture in {SHARED_ARCH!r}")
    name = bytes(raw.tolist()).decode("ascii", errors="replace")
    if name not in ARCHITECTURES:
        raise WireError(f"unknown shared architecture {name!r}")
    return name


def build_shared(arch: str, input_shape: InputShape, num_classes: int, native_dim: int, dim: int) -> BaseHeadModel:
    """`arch` with the federation's feature size; a smaller `dim` (FedMRL) pools those features down without
    parameters and reads them with a Linear(dim, C) head, as HtFLlib does (874,698 floats for FedAvgCNN, C=10)."""
    model = build_model(arch, input_shape, num_classes, native_dim)
    if dim == native_dim:
        return model
    base = nn.Sequential(model.base, feature_pool(native_dim, dim))
    return BaseHeadModel(base, StepLinear(dim, num_classes), dim, model.arch)


def reference_model(env: ServerEnv, feature_dim: int) -> BaseHeadModel:
    """The shared model as the server builds it: `env.reference_arch`, initialised from `env.seed`."""
    if env.reference_arch is None or env.input_shape is None:
        raise ConfigError("this algorithm shares a model: the server needs reference_arch and input_shape")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(env.seed)
        return build_shared(env.reference_arch, env.input_shape, env.num_classes, env.feature_dim, feature_dim)


def expected_shapes(env: ServerEnv, feature_dim: int) -> dict[str, tuple[int, ...]]:
    """The shapes of the shared parameters, found on the meta device (no memory, no RNG used)."""
    with torch.device("meta"):
        return part_shapes(reference_model(env, feature_dim), SHARED)


def seeded_linear(rng: torch.Generator, in_features: int, out_features: int, bias: bool = True) -> nn.Linear:
    """`nn.Linear` with PyTorch's default initialisation, drawn from a seed taken from the client's `rng`."""
    seed = int(torch.randint(0, 2**62, (1,), generator=rng))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Linear(in_features, out_features, bias=bias)


def join_shared_model(ctx: ClientContext, bootstrap: GlobalPayload, feature_dim: int) -> BaseHeadModel:
    """Build the architecture the bootstrap names for this client's data, keep it as ctx.state['shared']."""
    input_shape = tuple(ctx.data.train_x.shape[1:])
    if len(input_shape) != 3:
        raise ConfigError(f"the shared model needs image inputs [c, h, w], got {list(input_shape)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # overwritten by the first package; only its BatchNorm buffers are this client's
        arch, native = arch_name(bootstrap.tensors), ctx.model.feature_dim
        model = build_shared(arch, input_shape, ctx.num_classes, native, feature_dim)
    ctx.state["shared"] = model.to(ctx.device)
    return model


def receive_shared(ctx: ClientContext, payload: GlobalPayload) -> BaseHeadModel:
    """The client's shared model with the package's parameters loaded (its own BatchNorm buffers kept)."""
    model: BaseHeadModel = ctx.state["shared"]
    load_part(model, payload.tensors, SHARED)
    return model


def shared_update(ctx: ClientContext, payload: GlobalPayload, tensors: TensorMap, loss: float) -> ClientUpdate:
    """The upload of a shared-model algorithm: the (possibly compressed) shared parameters and the mean loss."""
    return ClientUpdate(
        round=payload.round,
        client_id=ctx.client_id,
        num_samples=ctx.data.num_train,
        tensors=tensors,
        values={"loss": loss},
    )


@dataclass(frozen=True)
class SharedModelState:
    round: int
    arch: str
    params: TensorMap
    shapes: dict[str, tuple[int, ...]]
    values: dict[str, float] = field(default_factory=dict)


class SharedModelServer:
    """Server half shared by FML and FedMRL: publish the shared parameters, average uploads without weights."""

    def shared_feature_dim(self, env: ServerEnv) -> int:
        return env.feature_dim

    def init(self, env: ServerEnv) -> SharedModelState:
        model = reference_model(env, self.shared_feature_dim(env))
        assert env.reference_arch is not None
        return SharedModelState(0, env.reference_arch, part_tensors(model, SHARED), part_shapes(model, SHARED))

    def bootstrap(self, state: SharedModelState) -> GlobalPayload:
        return GlobalPayload(round=state.round, tensors={SHARED_ARCH: arch_tensor(state.arch)})

    def broadcast(self, state: SharedModelState) -> GlobalPayload:
        return GlobalPayload(round=state.round, tensors=state.params, values=state.values)

    def aggregate(self, state: SharedModelState, updates: Sequence[ClientUpdate]) -> SharedModelState:
        parts = [self.uploaded_part(state, update) for update in updates]
        params = average_parts(parts) if parts else state.params
        return replace(state, round=state.round + 1, params=params)

    def uploaded_part(self, state: SharedModelState, update: ClientUpdate) -> TensorMap:
        part = select_part(update.tensors, SHARED)
        check_part(part, state.shapes)
        return part


def check_shared_names(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """WireError unless every uploaded tensor is a float32 shared parameter (shapes: `check_shared_upload`)."""
    for name, tensor in update.tensors.items():
        if not name.startswith(SHARED) or tensor.dtype != torch.float32:
            raise WireError(f"this algorithm uploads float32 '{SHARED}*' parameters only, got {name!r} {tensor.dtype}")


def check_shared_upload(update: ClientUpdate, env: ServerEnv, feature_dim: int) -> None:
    """WireError unless the upload is exactly the shared model's parameters (names, float32, shapes, finite)."""
    check_part(update.tensors, expected_shapes(env, feature_dim))
