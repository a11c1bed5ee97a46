"""Client half of FedCP (pfl_algorithms.md 9).

State: ctx.model's base (aggregated) and head (head_p, personal); in ctx.state the frozen global head head_g,
the frozen global base base_g (for the MMD term only), the CPN, the context c [K], the rounds of the last
package received and the last round trained, and the seed of the evaluation noise.

Receiving a package (once per `payload.round`, whether `evaluate` or `fit` sees it first):
- base and base_g <- the global base, always;
- if the client trained in the previous round (its `fit` ran with round == payload.round - 1):
  c <- sum of head_p's rows (head_p as trained), then head_g <- the global head_g and CPN <- the global CPN;
- the first package a client receives gives it everything, and head_p starts as that head_g too, so all clients
  start equal as in PFLlib (where head_p, head_g, base and base_g begin as copies of one model); c keeps its
  initial U[0, 1) draw (`math.initial_context`), which PFLlib also uses in iteration 0.

A round: one plain SGD over base + head_p + CPN on CE(logits) + lam * MMD(base(x), base_g(x)) for the run's local
epochs (`training.train_round`); then head_g <- 0.5 head_p + 0.5 head_g; upload base, head_g and CPN.
Evaluation: the same forward pass on the test split, Gumbel noise included (PFLlib's eval() does not turn it off),
drawn from a generator seeded per client and round, so evaluating a package twice gives the same answer.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fedcp.config import FedCPConfig
from fedloom.algorithms.fedcp.math import context_from_head, initial_context, mixed_head
from fedloom.algorithms.fedcp.parts import CPN, HEAD_G, UPLOAD_PARTS, FedCPModel, frozen, policy_network
from fedloom.algorithms.fedcp.training import evaluate_logits, train_round
from fedloom.algorithms.global_model import BASE, join_global_model, linear_head, model_update
from fedloom.algorithms.model_parts import TensorMap, load_part, part_tensors
from fedloom.algorithms.training import report_accuracy
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload

HEAD_G_STATE, BASE_G_STATE, CPN_STATE = "fedcp_head_g", "fedcp_base_g", "fedcp_cpn"
CONTEXT_STATE, ROUNDS_STATE, EVAL_SEED_STATE = "fedcp_context", "fedcp_rounds", "fedcp_eval_seed"
RECEIVED, TRAINED = 0, 1  # positions in ctx.state[ROUNDS_STATE] (-1: none yet)


def fedcp_model(ctx: ClientContext) -> FedCPModel:
    """The ensemble over the client's modules (shared, not copied)."""
    state = ctx.state
    return FedCPModel(
        ctx.model.base, linear_head(ctx.model), state[HEAD_G_STATE], state[BASE_G_STATE], state[CPN_STATE]
    )


class FedCPClient:
    def __init__(self, config: FedCPConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        """Create head_g, base_g and the CPN (their values come with the first package), c and the bookkeeping."""
        join_global_model(ctx, bootstrap, "fedcp")
        head = linear_head(ctx.model)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # placeholders, overwritten by the first package
            head_g, cpn = nn.Linear(head.in_features, head.out_features), policy_network(head.in_features)
        ctx.state[HEAD_G_STATE] = frozen(head_g).to(ctx.device)
        ctx.state[BASE_G_STATE] = frozen(copy.deepcopy(ctx.model.base))
        ctx.state[CPN_STATE] = cpn.to(ctx.device)
        ctx.state[CONTEXT_STATE] = initial_context(head.in_features).to(ctx.device)
        ctx.state[ROUNDS_STATE] = torch.tensor([-1, -1], dtype=torch.int64)
        ctx.state[EVAL_SEED_STATE] = torch.randint(0, 2**62, (), generator=ctx.rng)

    def receive(self, ctx: ClientContext, payload: GlobalPayload) -> None:
        """Take the package's parts as FedCP's server would have sent them to this client (module doc)."""
        rounds = ctx.state[ROUNDS_STATE]
        received, trained = int(rounds[RECEIVED]), int(rounds[TRAINED])
        if received == payload.round:
            return
        head_p = linear_head(ctx.model)
        load_part(ctx.model.base, payload.tensors, BASE)
        load_part(ctx.state[BASE_G_STATE], payload.tensors, BASE)
        first = received < 0
        if first or trained == payload.round - 1:
            if not first:
                ctx.state[CONTEXT_STATE].copy_(context_from_head(head_p.weight.detach()))
            load_part(ctx.state[HEAD_G_STATE], payload.tensors, HEAD_G)
            load_part(ctx.state[CPN_STATE], payload.tensors, CPN)
            if first:
                load_part(head_p, payload.tensors, HEAD_G)
        rounds[RECEIVED] = payload.round

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        self.receive(ctx, payload)
        model = fedcp_model(ctx)
        loss = train_round(ctx, model, ctx.state[CONTEXT_STATE], self.config.lam)
        with torch.no_grad():
            for global_p, personal_p in zip(model.head_g.parameters(), model.head_p.parameters(), strict=True):
                global_p.copy_(mixed_head(personal_p, global_p))
        ctx.state[ROUNDS_STATE][TRAINED] = payload.round
        return model_update(ctx, payload.round, upload_tensors(model), loss)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        self.receive(ctx, payload)
        seed = int(ctx.state[EVAL_SEED_STATE]) + payload.round
        logits = evaluate_logits(ctx, fedcp_model(ctx), ctx.state[CONTEXT_STATE], seed)
        return report_accuracy(ctx, payload.round, logits.argmax(dim=1))


def upload_tensors(model: FedCPModel) -> TensorMap:
    """base, head_g and CPN as float32 CPU copies under their wire names (`parts.UPLOAD_PARTS`)."""
    modules = (model.base, model.head_g, model.cpn)
    return {n: t for prefix, m in zip(UPLOAD_PARTS, modules, strict=True) for n, t in part_tensors(m, prefix).items()}
