"""Server half of FedDBE: FedAvg of the whole model, plus the global mean representation mu_g.

With kl_weight > 0 the first round is FedDBE's initialisation period (pfl_algorithms.md 11): its package
carries `feddbe_init = 1`, the selected clients train one round of plain cross-entropy from the initial
model and upload only their running mean `feddbe.mean` (K floats), and the server fixes mu_g, their
sample-weighted mean, which every later package carries as `feddbe.global_mean`. The model stays the
initial one (PFLlib discards those weights too). PFLlib runs this period in its constructor, outside its
round count; here it is round 0, so a run of R rounds trains R - 1. With kl_weight = 0 (the default) mu_g
is never used and there is no such round (PFLlib still spends the epoch; it changes no weight).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch

from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedavg.math import fedavg_average
from fedloom.algorithms.fedavg.server import FedAvgServer, FedAvgState
from fedloom.algorithms.feddbe.config import FedDBEConfig
from fedloom.algorithms.feddbe.math import global_mean
from fedloom.algorithms.global_model import WHOLE_MODEL, check_whole_model_upload
from fedloom.algorithms.model_parts import check_part
from fedloom.errors import WireError
from fedloom.wire import ClientUpdate

INIT, MEAN, GLOBAL_MEAN = "feddbe_init", "feddbe.mean", "feddbe.global_mean"


class FedDBEServer(FedAvgServer):
    config: FedDBEConfig

    def init(self, env: ServerEnv) -> FedAvgState:
        state = super().init(env)
        return replace(state, values={INIT: 1.0}) if self.config.kl_weight > 0 else state

    def aggregate(self, state: FedAvgState, updates: Sequence[ClientUpdate]) -> FedAvgState:
        if state.values.get(INIT):
            return self.fix_global_mean(state, [u for u in updates if MEAN in u.tensors])
        models = [u for u in updates if MEAN not in u.tensors]
        for update in models:
            check_part(update.tensors, state.shapes)
        params = state.params
        if models:
            averaged = fedavg_average([u.tensors for u in models], [u.num_samples for u in models])
            params = {**averaged, **{k: v for k, v in state.params.items() if k == GLOBAL_MEAN}}
        return replace(state, round=state.round + 1, params=params)

    def fix_global_mean(self, state: FedAvgState, updates: Sequence[ClientUpdate]) -> FedAvgState:
        """mu_g from the initialisation round's uploads; with none, the next round is the initialisation again."""
        if not updates:
            return replace(state, round=state.round + 1)
        mu_g = global_mean([u.tensors[MEAN] for u in updates], [u.num_samples for u in updates])
        values = {k: v for k, v in state.values.items() if k != INIT}
        return replace(state, round=state.round + 1, params={**state.params, GLOBAL_MEAN: mu_g}, values=values)


def check_feddbe_upload(update: ClientUpdate, env: ServerEnv, config: object) -> None:
    """WireError unless the upload is the whole model, or exactly one finite float32 [K] mean."""
    if MEAN not in update.tensors:
        check_whole_model_upload(update, env, config)
        return
    check_part(update.tensors, {MEAN: (env.feature_dim,)})


def check_feddbe_names(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """WireError unless every tensor is a float32 model parameter, or the upload is one [K] mean."""
    for name, tensor in update.tensors.items():
        if tensor.dtype != torch.float32 or not (name.startswith(WHOLE_MODEL) or name == MEAN):
            raise WireError(f"feddbe uploads float32 'base.*'/'head.*' parameters or {MEAN!r}, got {name!r}")
