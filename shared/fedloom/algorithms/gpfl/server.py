"""Server half of GPFL: the sample-weighted average (FedAvg's) of the base, the GCE and the CoV, all three sent
to every client (1,109,376 floats for cnn4 on 1x28x28, C = 10, K = 512: pfl_algorithms.md 10 and 12).

PFLlib's server also computes each client's new contexts from the client's pre-download GCE; here the client
does that when it takes in the package (`client.receive`), which is the same computation on the same rows.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedavg.server import FedAvgServer, FedAvgState
from fedloom.algorithms.global_model import BASE_ONLY, expected_shapes
from fedloom.algorithms.gpfl.modules import COV, GCE, module_shapes, module_tensors, seeded_modules
from fedloom.algorithms.model_parts import check_part
from fedloom.errors import WireError
from fedloom.wire import ClientUpdate

SHARED_PARTS = (*BASE_ONLY, GCE, COV)


class GPFLServer(FedAvgServer):
    shared_parts = BASE_ONLY

    def init(self, env: ServerEnv) -> FedAvgState:
        """The reference model's base, then the GCE and CoV drawn from the run seed (`modules.seeded_modules`)."""
        state = super().init(env)
        gce, cov = seeded_modules(env.num_classes, env.feature_dim, env.seed)
        params = {**state.params, **module_tensors(gce, cov)}
        shapes = {**state.shapes, **module_shapes(env.num_classes, env.feature_dim)}
        return replace(state, params=params, shapes=shapes)


def check_gpfl_names(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """WireError unless every uploaded tensor is a float32 `base.*`, `gce.*` or `cov.*` parameter."""
    for name, tensor in update.tensors.items():
        if not name.startswith(SHARED_PARTS) or tensor.dtype != torch.float32:
            raise WireError(f"gpfl uploads float32 'base.*'/'gce.*'/'cov.*' parameters only, got {name!r}")


def check_gpfl_upload(update: ClientUpdate, env: ServerEnv, config: object) -> None:
    """WireError unless the upload is exactly the reference base, the GCE and the CoV (names, float32, shapes,
    finite): the personal head never travels."""
    expected = {**expected_shapes(env, BASE_ONLY), **module_shapes(env.num_classes, env.feature_dim)}
    check_part(update.tensors, expected)
