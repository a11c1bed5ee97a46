"""Versioned wire messages. Tensors travel inside them and are encoded only by `fedloom.wire.codec`.

Algorithms put their tensors in `tensors` under names they document (e.g. FedTGP's
`prototypes` [n, K] with `classes` [n]); numbers go in `values`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal[1] = 1

TensorMap = dict[str, torch.Tensor]
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
"""SHA-256 of a `TensorBlob`'s encoded bytes, as lowercase hex."""


class WireModel(BaseModel):
    """Base of every message: frozen, no unknown fields, tensors allowed as values."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    schema_version: Literal[1] = SCHEMA_VERSION


class GlobalPayload(WireModel):
    """What the server sends to clients: the per-round package, or the one-time bootstrap."""

    round: int = Field(ge=0)
    tensors: TensorMap = Field(default_factory=dict)
    values: dict[str, float] = Field(default_factory=dict)
    refs: dict[str, Digest] = Field(
        default_factory=dict,
        description="tensors stored apart (services: large ones, in the artifact store): name -> blob digest; "
        "receivers resolve them with `fedloom.wire.blobs.resolve` before an algorithm sees the package",
    )


class TensorBlob(WireModel):
    """One tensor on its own, stored apart from the package that references it by digest."""

    tensor: torch.Tensor


class RoundTask(WireModel):
    """One unit of work for one client."""

    kind: Literal["fit", "evaluate"]
    round: int = Field(ge=0)
    client_id: int = Field(ge=0)
    payload: GlobalPayload


class ClientUpdate(WireModel):
    """What a client uploads after local training: prototypes, or a shared model's parameters; never data."""

    round: int = Field(ge=0)
    client_id: int = Field(ge=0)
    num_samples: int = Field(ge=0)
    tensors: TensorMap = Field(default_factory=dict)
    values: dict[str, float] = Field(default_factory=dict)


class EvalReport(WireModel):
    """A client's evaluation of its own model on its own test split."""

    round: int = Field(ge=0)
    client_id: int = Field(ge=0)
    correct: int = Field(ge=0)
    total: int = Field(ge=0)
    loss: float = 0.0
    other_correct: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description="correct predictions of the client's other models on the same test split, by name "
        "(Ditto's 'global' model beside its personal one, FedBABU's 'finetuned' model after the last round)",
    )
