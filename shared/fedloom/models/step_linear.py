"""A Linear layer that can take its own plain-SGD step inside the backward pass.

With batch 10 a large fully connected layer is bound by memory traffic, not arithmetic: the usual path
writes a weight-sized gradient, then the optimiser reads it back with the weight and writes the weight.
`StepLinear` with `step_lr` set computes the input gradient with the old weight and then updates the
weight in place with one `addmm_` (W -= lr * g^T x): the same SGD step, one pass over the weight instead
of three, and no gradient buffer. Autograd then receives no gradient for the layer's parameters.

Only valid when the layer is used once per step and its parameters follow plain SGD without gradient
clipping; `fedloom.algorithms.training.ParamGroup(fuse_from=...)` switches it on under those rules.
If the layer is used twice in one graph, autograd raises (the saved weight was modified in place)
instead of computing a wrong step.

The forward product is always `F.linear` (x W^T). An earlier version timed x W^T against (W x^T)^T once
per process and took the faster: on one x86 host the transposed form was twice as fast for 10-row batches,
on the AMD EPYC hosts of the benchmarks half as fast. The two round differently, so two processes (the
services, a rerun) could pick differently and stop agreeing bit for bit; results are now the same in every
process, at the cost of that speed-up on hosts where the transposed form wins.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class _LinearWithSGDStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, lr: float) -> torch.Tensor:
        ctx.save_for_backward(x, weight, bias)
        ctx.lr = lr
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, None, None, None]:
        x, weight, bias = ctx.saved_tensors
        grad_x = grad_out @ weight if ctx.needs_input_grad[0] else None
        g2, x2 = grad_out.reshape(-1, grad_out.shape[-1]), x.reshape(-1, x.shape[-1])
        with torch.no_grad():
            weight.addmm_(g2.t(), x2, alpha=-ctx.lr)
            if bias is not None:
                bias.add_(g2.sum(0), alpha=-ctx.lr)
        return grad_x, None, None, None


class StepLinear(nn.Linear):
    """`nn.Linear` (same parameters, same state dict) that steps itself in backward while `step_lr` is set."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias)
        self.step_lr: float | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_lr is None or not torch.is_grad_enabled():
            return F.linear(x, self.weight, self.bias)
        out: torch.Tensor = _LinearWithSGDStep.apply(x, self.weight, self.bias, self.step_lr)
        return out
