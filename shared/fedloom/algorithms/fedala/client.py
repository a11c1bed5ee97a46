"""Client half of FedALA: adaptive local aggregation of each received global model, then FedAvg's training.

On each package (once per round, whether `evaluate` or `fit` sees it first; PFLlib runs ALA on every client
at send time, selected or not) the client mixes the global model into its own (pfl_algorithms.md 8, `math`):
lower tensors take g, the last `layer_idx` tensors become l + (g - l) * W with W learned on a contiguous
`rand_percent` slice of its training data. The first package is taken whole (PFLlib's clients all start
from the one initial model, so its first ALA call skips). Evaluation: the adapted local model.

When the mixed tensors all belong to the head (the default, layer_idx = 2), the frozen base's features of
the slice are computed once and every pass only runs the head: PFLlib runs the whole network each pass.
The forward passes of ALA run in eval mode (no BatchNorm statistics move; cnn4 has none).

ctx.state holds tensors only (the agent checkpoints them): `fedala.round`, `fedala.start`, `fedala.w<k>`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fedala import math as ala
from fedloom.algorithms.fedala.config import FedALAConfig
from fedloom.algorithms.global_model import (
    WHOLE_MODEL,
    join_global_model,
    load_model,
    model_tensors,
    model_update,
)
from fedloom.algorithms.training import evaluate_head, map_in_batches, model_group, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

ROUND, START = "fedala.round", "fedala.start"
TopForward = Callable[[list[Tensor], slice], Tensor]


def weight_key(k: int) -> str:
    return f"fedala.w{k}"


class FedALAClient:
    def __init__(self, config: FedALAConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        join_global_model(ctx, bootstrap, "fedala")

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        self.receive(ctx, payload)
        loss = train_local(ctx, lambda x, y: F.cross_entropy(ctx.model(x), y), [model_group(ctx, fused=True)])
        return model_update(ctx, payload.round, model_tensors(ctx.model, WHOLE_MODEL), loss)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        self.receive(ctx, payload)
        return evaluate_head(ctx, payload.round)

    def receive(self, ctx: ClientContext, payload: GlobalPayload) -> None:
        """Adaptive local aggregation of this package into the client's model, once per package."""
        if ROUND in ctx.state and int(ctx.state[ROUND]) == payload.round:
            return
        first = ROUND not in ctx.state
        ctx.state[ROUND] = torch.tensor(payload.round)
        if first:
            load_model(ctx.model, payload.tensors, WHOLE_MODEL)
            ctx.state[START] = torch.tensor(True)
            return
        self.adapt(ctx, payload)

    def adapt(self, ctx: ClientContext, payload: GlobalPayload) -> None:
        named = named_model_parameters(ctx)
        names, local = [name for name, _ in named], [p for _, p in named]
        global_ = [payload.tensors[name].to(ctx.device) for name in names]
        start, length = ala.ala_slice(ctx.data.num_train, self.config.rand_percent, ctx.rng)
        if ala.unchanged_since_last_round(global_[0], local[0].detach()):
            return
        p = min(self.config.layer_idx, len(local))
        with torch.no_grad():
            for param, g in zip(local[:-p], global_[:-p], strict=True):
                param.copy_(g)
        top_l, top_g = [t.detach().clone() for t in local[-p:]], global_[-p:]
        weights = [ctx.state.get(weight_key(k), torch.ones_like(t)) for k, t in enumerate(top_l)]
        if length > 0:
            forward = top_forward(ctx, names[-p:], slice(start, start + length))
            weights = self.learn_weights(ctx, forward, top_l, top_g, weights, (start, length))
        with torch.no_grad():
            for param, theta in zip(local[-p:], ala.mixed(top_l, top_g, weights), strict=True):
                param.copy_(theta)
        for k, w in enumerate(weights):
            ctx.state[weight_key(k)] = w

    def learn_weights(
        self,
        ctx: ClientContext,
        forward: TopForward,
        top_l: list[Tensor],
        top_g: list[Tensor],
        weights: list[Tensor],
        window: tuple[int, int],
    ) -> list[Tensor]:
        """Passes over the slice, W stepped after every batch; one pass, or until converged in the start phase."""
        start, length = window
        labels = ctx.data.train_y[start : start + length].to(ctx.device)
        batch, losses, cfg = ctx.settings.batch_size, [], self.config
        start_phase = bool(ctx.state.get(START, torch.tensor(True)))
        for _ in range(cfg.max_passes):
            for i in range(0, length, batch):
                theta = [t.requires_grad_() for t in ala.mixed(top_l, top_g, weights)]
                loss = F.cross_entropy(forward(theta, slice(i, i + batch)), labels[i : i + batch])
                grads = list(torch.autograd.grad(loss, theta))
                weights = ala.updated_weights(weights, grads, top_l, top_g, cfg.eta)
            losses.append(float(loss.detach()))
            if not start_phase or ala.start_phase_converged(losses, cfg.num_pre_loss, cfg.threshold):
                break
        ctx.state[START] = torch.tensor(False)
        return [w.detach() for w in weights]


def named_model_parameters(ctx: ClientContext) -> list[tuple[str, nn.Parameter]]:
    """The model's parameters under their wire names (`base.*`, `head.*`), in the model's order."""
    return [
        (prefix + name, p)
        for prefix in WHOLE_MODEL
        for name, p in ctx.model.get_submodule(prefix[:-1]).named_parameters()
    ]


def top_forward(ctx: ClientContext, top_names: list[str], window: slice) -> TopForward:
    """logits(theta, rows) for rows of the slice with the top tensors replaced by theta. When they all lie in the
    head, the base's features of the slice are computed once here; otherwise the whole model runs each time."""
    model = ctx.model
    model.eval()
    x = ctx.data.train_x[window].to(ctx.device)
    if all(name.startswith(WHOLE_MODEL[1]) for name in top_names):
        features = map_in_batches(model.base, x, ctx.settings.eval_batch_size)
        head_names = [name[len(WHOLE_MODEL[1]) :] for name in top_names]
        return lambda theta, rows: functional_call(
            model.head, dict(zip(head_names, theta, strict=True)), (features[rows],)
        )
    return lambda theta, rows: functional_call(model, dict(zip(top_names, theta, strict=True)), (x[rows],))
