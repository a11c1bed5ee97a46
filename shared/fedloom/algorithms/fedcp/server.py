"""Server half of FedCP: the sample-weighted average of the uploaded bases, global heads and CPNs, published in
one package (pfl_algorithms.md 9: base to every client, head_g and CPN to the clients selected last round).

Every client receives the same broadcast package; a client takes head_g and the CPN from it only when it
trained in the previous round (`client.FedCPClient.receive`), which is PFLlib's "to the selected clients only".
The uploads are checked before anything is averaged: exactly `base.*`, `head_g.*` and `cpn.*`, float32, the
reference shapes (`check_fedcp_names` at the door with (C, K) alone, `check_fedcp_upload` with the environment).
"""

from __future__ import annotations

import torch

from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedavg.server import FedAvgServer, FedAvgState
from fedloom.algorithms.fedcp.parts import UPLOAD_PARTS, head_and_policy_shapes, reference_tensors, upload_shapes
from fedloom.algorithms.model_parts import check_part, select_part
from fedloom.errors import WireError
from fedloom.wire import ClientUpdate

FedCPState = FedAvgState
"""The global base, head_g and CPN under their wire names (FedAvg's state, other parts)."""


class FedCPServer(FedAvgServer):
    shared_parts = UPLOAD_PARTS

    def init(self, env: ServerEnv) -> FedCPState:
        params = reference_tensors(env)
        assert env.reference_arch is not None  # reference_tensors refuses an env without one
        shapes = {name: tuple(t.shape) for name, t in params.items()}
        return FedCPState(round=0, arch=env.reference_arch, params=params, shapes=shapes, rounds=env.rounds)


def check_fedcp_names(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """WireError unless every tensor is a float32 `base.*`, `head_g.*` or `cpn.*` one and head_g and the CPN are
    complete with the shapes (C, K) gives them (the base's shapes: `check_fedcp_upload`)."""
    for name, tensor in update.tensors.items():
        if not name.startswith(UPLOAD_PARTS) or tensor.dtype != torch.float32:
            raise WireError(f"fedcp uploads float32 'base.*', 'head_g.*' and 'cpn.*' tensors only, got {name!r}")
    expected = head_and_policy_shapes(num_classes, feature_dim)
    check_part({n: t for prefix in UPLOAD_PARTS[1:] for n, t in select_part(update.tensors, prefix).items()}, expected)


def check_fedcp_upload(update: ClientUpdate, env: ServerEnv, config: object) -> None:
    """WireError unless the upload is exactly the reference base, head_g and CPN (names, float32, shapes, finite)."""
    check_part(update.tensors, upload_shapes(env))
