"""Client half of GPFL (pfl_algorithms.md 10): a base (averaged), a personal head (never uploaded), and the
shared GCE and CoV; the personalised feature CoV(f, ctx_P) feeds the head, the global one CoV(f, ctx_G) is
pulled towards the GCE.

Taking in a package (`receive`, once per package round: evaluation and training may both see it): if the
client already holds a GCE, ctx_G = mean of its rows and ctx_P = sum_c pi_c e_c, from that *pre-download* GCE
(PFLlib and the authors' code do the same); then it loads the averaged base, GCE and CoV and keeps the new
GCE as GCE_frozen. Before its first package the contexts are zero, so f_P = f_G in the first round.

Training: one backward of CE(head(f_P), y) + L_ang + lam ||f_G - GCE_frozen[y]||_F per batch, then three
plain SGD steps at the run's lr: base + head, the GCE (weight decay mu) and the CoV (weight decay mu).
Upload: base, GCE and CoV. Evaluation: head(CoV(base(x), ctx_P)) on the test split.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.global_model import BASE_ONLY, join_global_model, load_model, model_tensors, model_update
from fedloom.algorithms.gpfl.config import GPFLConfig
from fedloom.algorithms.gpfl.math import contexts, decayed_gradients, gpfl_loss, label_shares, valve
from fedloom.algorithms.gpfl.modules import COV, GCE, ConditionalValve, ValveLinear, build_modules, module_tensors
from fedloom.algorithms.model_parts import load_part
from fedloom.algorithms.training import LossFn, ParamGroup, map_in_batches, model_group, report_accuracy, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

GCE_MODULE, COV_MODULE = "gpfl_gce", "gpfl_cov"
FROZEN = "gpfl_gce_frozen"  # [C, K]: the GCE as last received, target of the alignment term
CONTEXTS = "gpfl_contexts"  # [2, K]: row 0 ctx_P, row 1 ctx_G
SHARES = "gpfl_label_shares"  # [C]: pi, the client's training label histogram over n
RECEIVED = "gpfl_received_round"  # round of the last package taken in; -1 before the first (no GCE held yet)
PERSONAL, GLOBAL = 0, 1


class DecayGroup(ParamGroup):
    """Plain SGD with torch.optim.SGD's weight decay: p <- p - lr (g + mu p) (`math.decayed_gradients`).
    With `fuse_from`, that module's `ValveLinear` layers take the same step inside backward."""

    def __init__(
        self, params: Sequence[nn.Parameter], lr: float, weight_decay: float, fuse_from: nn.Module | None = None
    ) -> None:
        super().__init__(params, lr, fuse_from=fuse_from)
        self.weight_decay = weight_decay
        self.valves = [layer for layer in self.fused if isinstance(layer, ValveLinear)]
        if len(self.valves) != len(self.fused):
            raise ValueError("only ValveLinear layers can take a step with weight decay inside backward")

    def begin(self) -> None:
        super().begin()
        for layer in self.valves:
            layer.step_decay = self.weight_decay

    @torch.no_grad()
    def step(self) -> None:
        params: list[torch.Tensor] = [p for p in self.stepped if p.grad is not None]
        grads = [p.grad for p in params if p.grad is not None]
        if params:
            torch._foreach_add_(params, decayed_gradients(grads, params, self.weight_decay), alpha=-self.lr)


def gce_of(ctx: ClientContext) -> nn.Embedding:
    gce: nn.Embedding = ctx.state[GCE_MODULE]
    return gce


def cov_of(ctx: ClientContext) -> ConditionalValve:
    cov: ConditionalValve = ctx.state[COV_MODULE]
    return cov


class GPFLClient:
    def __init__(self, config: GPFLConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        """Check the architecture; make the GCE and CoV (placeholders, overwritten by the first package) and the
        client's state: zero contexts and pi from the full training split's label counts."""
        join_global_model(ctx, bootstrap, "gpfl")
        classes, dim, device = ctx.num_classes, ctx.model.feature_dim, ctx.device
        with torch.random.fork_rng(devices=[]):
            gce, cov = build_modules(classes, dim)
        ctx.state[GCE_MODULE], ctx.state[COV_MODULE] = gce.to(device), cov.to(device)
        ctx.state[FROZEN] = torch.zeros(classes, dim, device=device)
        ctx.state[CONTEXTS] = torch.zeros(2, dim, device=device)
        ctx.state[SHARES] = label_shares(ctx.data.train_y, classes).to(device)
        ctx.state[RECEIVED] = torch.tensor(-1)

    def receive(self, ctx: ClientContext, payload: GlobalPayload) -> None:
        """Take in a package once: contexts from the GCE held so far, then the new base, GCE and CoV."""
        held = int(ctx.state[RECEIVED])
        if held == payload.round:
            return
        gce = gce_of(ctx)
        if held >= 0:
            personal, global_ = contexts(gce.weight, ctx.state[SHARES])
            ctx.state[CONTEXTS].copy_(torch.stack([personal, global_]))
        load_model(ctx.model, payload.tensors, BASE_ONLY)
        load_part(gce, payload.tensors, GCE)
        load_part(cov_of(ctx), payload.tensors, COV)
        ctx.state[FROZEN].copy_(gce.weight.detach())
        ctx.state[RECEIVED] = torch.tensor(payload.round)

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        self.receive(ctx, payload)
        gce, cov, lr, mu = gce_of(ctx), cov_of(ctx), ctx.settings.lr, self.config.mu
        groups = [model_group(ctx, fused=True), DecayGroup(list(gce.parameters()), lr, mu)]
        groups.append(DecayGroup(list(cov.parameters()), lr, mu, fuse_from=cov))
        loss = train_local(ctx, self.loss_fn(ctx), groups)
        tensors = {**model_tensors(ctx.model, BASE_ONLY), **module_tensors(gce, cov)}
        return model_update(ctx, payload.round, tensors, loss)

    def loss_fn(self, ctx: ClientContext) -> LossFn:
        """The per-batch loss; the CoV's branches run once per batch on the two stacked contexts."""
        base, head, gce, cov = ctx.model.base, ctx.model.head, gce_of(ctx), cov_of(ctx)
        frozen, stacked, lam = ctx.state[FROZEN], ctx.state[CONTEXTS], self.config.lam

        def loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            features = base(x)
            gamma, beta = cov.modulations(stacked)
            personal = valve(features, gamma[PERSONAL], beta[PERSONAL])
            global_ = valve(features, gamma[GLOBAL], beta[GLOBAL])
            return gpfl_loss(head(personal), global_, gce.weight, frozen, y, lam)

        return loss

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        """Accuracy of head(CoV(base(x), ctx_P)) once the package is taken in."""
        self.receive(ctx, payload)
        model, cov = ctx.model, cov_of(ctx)
        model.eval()
        with torch.no_grad():
            gamma, beta = cov.modulations(ctx.state[CONTEXTS][PERSONAL : PERSONAL + 1])
            logits = map_in_batches(
                lambda x: model.head(valve(model.base(x), gamma[0], beta[0])),
                ctx.data.test_x.to(ctx.device),
                ctx.settings.eval_batch_size,
            )
        return report_accuracy(ctx, payload.round, logits.argmax(dim=1))
