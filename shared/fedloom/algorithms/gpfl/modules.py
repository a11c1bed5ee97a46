"""GPFL's two shared modules beside the base (pfl_algorithms.md 10), their names on the wire and their shapes.

- GCE (global category embeddings): `nn.Embedding(C, K)`, N(0, 1) init; 5,120 floats for C = 10, K = 512.
- CoV (conditional valve): branches gamma and beta, each Linear(K -> K) -> ReLU -> LayerNorm(K); 263,680
  floats each, 527,360 together for K = 512.

The server draws both from the run seed and sends them in every package, so all clients start equal.

The branches' Linear layers are `ValveLinear`s: like `fedloom.models.step_linear.StepLinear` they take their
SGD step inside backward while training (each is used once per step, on the stacked contexts), and with weight
decay too. Their weight gradient is a rank-2 outer product over the two contexts; writing it into a fresh
buffer and stepping it afterwards cost about 0.8 ms a batch on one CPU thread, the in-place update a fraction.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from fedloom.algorithms.gpfl.math import valve
from fedloom.algorithms.model_parts import TensorMap, part_shapes, part_tensors
from fedloom.models.step_linear import StepLinear

GCE, COV = "gce.", "cov."
Shapes = dict[str, tuple[int, ...]]


class _LinearWithDecayedStep(torch.autograd.Function):
    """F.linear whose backward also steps the weight and bias in place: p <- (1 - lr mu) p - lr g, which is
    torch.optim.SGD's p <- p - lr (g + mu p) (weight decay mu), without a gradient buffer."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, lr: float, mu: float) -> Any:
        ctx.save_for_backward(x, weight)
        ctx.bias, ctx.lr, ctx.mu = bias, lr, mu
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, None, None, None, None]:
        x, weight = ctx.saved_tensors
        grad_x = grad_out @ weight if ctx.needs_input_grad[0] else None
        keep = 1.0 - ctx.lr * ctx.mu
        with torch.no_grad():
            weight.addmm_(grad_out.t(), x, beta=keep, alpha=-ctx.lr)
            ctx.bias.mul_(keep).add_(grad_out.sum(0), alpha=-ctx.lr)
        return grad_x, None, None, None, None


class ValveLinear(StepLinear):
    """A StepLinear (found and switched on by `ParamGroup(fuse_from=...)`) whose fused step also applies the
    weight decay `step_decay` its group sets. Inputs are [n, K] (the stacked contexts)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features)
        self.step_decay = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_lr is None or not torch.is_grad_enabled():
            return F.linear(x, self.weight, self.bias)
        out: torch.Tensor = _LinearWithDecayedStep.apply(x, self.weight, self.bias, self.step_lr, self.step_decay)
        return out


def valve_branch(dim: int) -> nn.Sequential:
    return nn.Sequential(ValveLinear(dim, dim), nn.ReLU(), nn.LayerNorm(dim))


class ConditionalValve(nn.Module):
    """CoV(f, ctx) = ReLU(f * (gamma(ctx) + 1) + beta(ctx)) (`math.valve`)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.gamma = valve_branch(dim)
        self.beta = valve_branch(dim)

    def modulations(self, contexts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(gamma(ctx), beta(ctx)) for each row of `contexts` [n, K]: every branch is row-wise, so one call on
        the stacked contexts equals one call per context."""
        return self.gamma(contexts), self.beta(contexts)

    def forward(self, features: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """The valve for one K-vector context, applied to every row of `features` [B, K]."""
        gamma, beta = self.modulations(context.reshape(1, -1))
        return valve(features, gamma[0], beta[0])


def build_modules(num_classes: int, dim: int) -> tuple[nn.Embedding, ConditionalValve]:
    """A GCE and a CoV with PyTorch's default initialisation, drawn from the global RNG."""
    return nn.Embedding(num_classes, dim), ConditionalValve(dim)


def seeded_modules(num_classes: int, dim: int, seed: int) -> tuple[nn.Embedding, ConditionalValve]:
    """The server's GCE and CoV. Drawn under a seed derived from the run seed, not the run seed itself, so the
    GCE's normal draws do not reuse the random bits of the model's first layer (also drawn from the run seed)."""
    derived = int(torch.randint(0, 2**62, (1,), generator=torch.Generator().manual_seed(seed)))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derived)
        return build_modules(num_classes, dim)


def module_tensors(gce: nn.Embedding, cov: ConditionalValve) -> TensorMap:
    """The GCE's and CoV's parameters as float32 CPU copies named `gce.*` and `cov.*`."""
    return {**part_tensors(gce, GCE), **part_tensors(cov, COV)}


def module_shapes(num_classes: int, dim: int) -> Shapes:
    """The shapes of `module_tensors`, found on the meta device (no memory, no RNG used)."""
    with torch.device("meta"):
        gce, cov = build_modules(num_classes, dim)
        return {**part_shapes(gce, GCE), **part_shapes(cov, COV)}
