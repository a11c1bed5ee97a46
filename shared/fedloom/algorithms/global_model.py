"""One architecture for every client: the global model FedAvg and the personalised algorithms built on it share
(FedPer, FedRep, FedBABU and Ditto; the pieces suit FedALA, FedCP, GPFL and FedDBE as well).

- The server builds the model of `ServerEnv.reference_arch` (client 0's architecture) from the run seed, as
  `shared_model.reference_model` does for FML's meme model, and names that architecture in the bootstrap
  package (`shared_arch`). A client whose own model is another architecture refuses to join with a
  ConfigError; `AlgorithmSpec(one_architecture=True)` lets `simulate` (and the services, through
  `AlgorithmSpec.check_architectures`) refuse a heterogeneous model group before any round runs.
- On the wire the parameters keep their module names under `base.` (the feature extractor) and `head.` (the
  classifier, the names the head-sharing algorithms use). FedAvg and Ditto share both (`WHOLE_MODEL`); FedPer,
  FedRep and FedBABU the base only (`BASE_ONLY`). Only parameters travel, never BatchNorm statistics.
- The server half is `fedavg.server.FedAvgServer` (the sample-weighted average of the shared parts); the
  others subclass it.
- Nothing here is specific to the services: they put every tensor over their inline limit (cnn4's fc1 weight,
  2 MB) into the artefact store by digest and reference it from the package, as they do for FML's and FedKD's
  shared models.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from fedloom.algorithms.base import ClientContext, ServerEnv
from fedloom.algorithms.model_parts import TensorMap, check_part, load_part, part_shapes, part_tensors
from fedloom.algorithms.shared_model import arch_name, reference_model
from fedloom.algorithms.training import evaluate_head
from fedloom.errors import ConfigError, WireError
from fedloom.models.base import BaseHeadModel
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

BASE, HEAD = "base.", "head."
WHOLE_MODEL: tuple[str, ...] = (BASE, HEAD)
BASE_ONLY: tuple[str, ...] = (BASE,)
Shapes = dict[str, tuple[int, ...]]


def model_tensors(model: BaseHeadModel, parts: Sequence[str]) -> TensorMap:
    """The parameters of the model's `parts` (`base.` and/or `head.`), as float32 CPU copies named by part."""
    return {name: t for prefix in parts for name, t in part_tensors(model.get_submodule(prefix[:-1]), prefix).items()}


def model_shapes(model: BaseHeadModel, parts: Sequence[str]) -> Shapes:
    return {name: s for prefix in parts for name, s in part_shapes(model.get_submodule(prefix[:-1]), prefix).items()}


def linear_head(model: BaseHeadModel) -> nn.Linear:
    """The model's head as the Linear layer every FedLoom model has (ConfigError for anything else)."""
    head = model.head
    if not isinstance(head, nn.Linear) or head.bias is None:
        raise ConfigError(f"this algorithm needs a Linear head with a bias, got {type(head).__name__}")
    return head


def load_model(model: BaseHeadModel, tensors: TensorMap, parts: Sequence[str]) -> None:
    """Copy the package's `parts` into the model in place; WireError if the package lacks one or shapes differ."""
    for prefix in parts:
        load_part(model.get_submodule(prefix[:-1]), tensors, prefix)


def join_global_model(ctx: ClientContext, bootstrap: GlobalPayload, algorithm: str) -> None:
    """A client joins only with the federation's architecture (ConfigError naming both otherwise)."""
    federation_arch = arch_name(bootstrap.tensors)
    if ctx.model.arch != federation_arch:
        raise ConfigError(
            f"{algorithm} averages the clients' model weights and needs one architecture for every client: "
            f"this client's model is {ctx.model.arch}, the federation's is {federation_arch}"
        )


def model_update(ctx: ClientContext, round_: int, tensors: TensorMap, loss: float) -> ClientUpdate:
    """An upload of model parameters, weighted by the client's training samples on the server."""
    return ClientUpdate(
        round=round_, client_id=ctx.client_id, num_samples=ctx.data.num_train, tensors=tensors, values={"loss": loss}
    )


def evaluate_received(ctx: ClientContext, payload: GlobalPayload, parts: Sequence[str]) -> EvalReport:
    """Accuracy of the client's model once it holds the package's `parts` (PFLlib evaluates right after the
    server's parts arrive; `fedloom.federation.loop` sends each round's evaluation the package of the next)."""
    load_model(ctx.model, payload.tensors, parts)
    return evaluate_head(ctx, payload.round)


def expected_shapes(env: ServerEnv, parts: Sequence[str]) -> Shapes:
    """The shapes of the shared parts of `env.reference_arch`, found on the meta device (no memory, no RNG)."""
    with torch.device("meta"):
        return model_shapes(reference_model(env, env.feature_dim), parts)


def check_model_names(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """WireError unless every uploaded tensor is a float32 `base.*` or `head.*` parameter (shapes: `check_*_env`)."""
    for name, tensor in update.tensors.items():
        if not name.startswith(WHOLE_MODEL) or tensor.dtype != torch.float32:
            raise WireError(f"this algorithm uploads float32 'base.*'/'head.*' parameters only, got {name!r}")


def check_whole_model_upload(update: ClientUpdate, env: ServerEnv, config: object) -> None:
    """WireError unless the upload is exactly the reference model's parameters (names, float32, shapes, finite)."""
    check_part(update.tensors, expected_shapes(env, WHOLE_MODEL))


def check_base_upload(update: ClientUpdate, env: ServerEnv, config: object) -> None:
    """WireError unless the upload is exactly the reference model's base parameters."""
    check_part(update.tensors, expected_shapes(env, BASE_ONLY))
