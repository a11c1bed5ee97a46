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

For small batches on CPU the forward product is x W^T or (W x^T)^T, whichever this CPU's BLAS runs
clearly faster for the shape (timed once per process): with MKL in torch 2.14 a 10-row x and a large W ran
about twice as fast transposed on one x86 host and half as fast on another (AMD EPYC with AVX-512).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class _LinearWithSGDStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, lr: float) -> torch.Tensor:
        ctx.save_for_backward(x, weight, bias)
        ctx.lr = lr
        return small_batch_linear(x, weight, bias).contiguous()  # a Function's output must not be a view

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


SMALL_BATCH = 64
CLEAR_MARGIN = 1.5
"""(W x^T)^T is used only when it is this many times faster: the two forms round differently, and a clear
margin keeps the choice, and so the results, the same from run to run on one machine."""


def small_batch_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """F.linear(x, weight, bias), through the faster BLAS shape when x has few rows (see the module doc)."""
    if x.dim() != 2 or x.shape[0] > SMALL_BATCH or x.device.type != "cpu":
        return F.linear(x, weight, bias)
    if not transposed_product_wins(x.shape[0], weight.shape[1], weight.shape[0]):
        return F.linear(x, weight, bias)
    if bias is None:
        return torch.mm(weight, x.t()).t()
    return torch.addmm(bias.unsqueeze(1), weight, x.t()).t()


@cache
def transposed_product_wins(rows: int, in_features: int, out_features: int) -> bool:
    """Whether (W x^T)^T beats x W^T by CLEAR_MARGIN on this CPU for these shapes; measured once per process.

    The probe's inputs are constants, so it draws nothing from torch's random generators.
    """
    x = torch.full((rows, in_features), 0.5)
    weight = torch.full((out_features, in_features), 0.25)
    with torch.no_grad():
        plain = _fastest_seconds(lambda: F.linear(x, weight))
        transposed = _fastest_seconds(lambda: torch.mm(weight, x.t()))
    return transposed * CLEAR_MARGIN < plain


def _fastest_seconds(fn: Callable[[], torch.Tensor], repeats: int = 5) -> float:
    fn()  # warm-up: first-call allocation and kernel selection
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


class StepLinear(nn.Linear):
    """`nn.Linear` (same parameters, same state dict) that steps itself in backward while `step_lr` is set."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias)
        self.step_lr: float | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.step_lr is None or not torch.is_grad_enabled():
            return small_batch_linear(x, self.weight, self.bias)
        out: torch.Tensor = _LinearWithSGDStep.apply(x, self.weight, self.bias, self.step_lr)
        return out
