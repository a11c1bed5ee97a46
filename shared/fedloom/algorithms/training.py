"""Client-side building blocks every algorithm uses: batching, the SGD loop, class means, evaluation.

Data stay in memory as tensors; batches are index slices of a seeded permutation (drop_last, like
HtFLlib, but shuffled every epoch, which HtFLlib forgot).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from fedloom.algorithms import prototypes as wire_protos
from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.private_upload import class_mean_upload
from fedloom.models.base import BaseHeadModel
from fedloom.models.step_linear import StepLinear
from fedloom.wire import ClientUpdate, EvalReport

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def shuffled_batches(n: int, batch_size: int, rng: torch.Generator) -> Iterator[torch.Tensor]:
    """Index batches of one epoch over n samples, shuffled by `rng`, the last partial batch dropped.

    A client with fewer than `batch_size` samples still trains on one (smaller) batch.
    """
    order = torch.randperm(n, generator=rng)
    if n < batch_size:
        yield order
        return
    for start in range(0, n - batch_size + 1, batch_size):
        yield order[start : start + batch_size]


class ParamGroup:
    """Parameters updated by plain SGD with an optional gradient-norm clip (HtFLlib: no momentum).

    With `fuse_from` (a model whose parameters all follow this group's update once per step) and no clip,
    the model's `StepLinear` layers take their SGD step inside backward (same step, less memory traffic;
    see `fedloom.models.step_linear`) while `train_local` runs; `step` updates the others.
    """

    def __init__(
        self, params: Sequence[nn.Parameter], lr: float, clip: float | None = None, fuse_from: nn.Module | None = None
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.clip = lr, clip
        self.fused = fusable_layers(fuse_from, self.params) if fuse_from is not None and clip is None else []
        fused_ids = {id(p) for layer in self.fused for p in layer.parameters()}
        self.stepped = [p for p in self.params if id(p) not in fused_ids]

    def begin(self) -> None:
        for layer in self.fused:
            layer.step_lr = self.lr

    def end(self) -> None:
        for layer in self.fused:
            layer.step_lr = None
            if any(p.grad is not None for p in layer.parameters()):
                raise RuntimeError("a fused layer's weights were also used outside it: train without fuse_from")

    def zero_grad(self) -> None:
        for p in self.stepped:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """p -= lr * c * grad for every parameter with a gradient, c the clip coefficient (1 without a clip):
        clip_grad_norm_ then torch.optim.SGD(lr), without rescaling the gradients in a pass of their own."""
        with_grad: list[torch.Tensor] = [p for p in self.stepped if p.grad is not None]
        grads = [p.grad for p in with_grad if p.grad is not None]
        if grads:
            coefficient = 1.0 if self.clip is None else clip_coefficient(grads, self.clip)
            torch._foreach_add_(with_grad, grads, alpha=-self.lr * coefficient)


def clip_coefficient(grads: Sequence[torch.Tensor], max_norm: float) -> float:
    """torch's clip_grad_norm_ factor: min(1, max_norm / (||all grads||_2 + 1e-6)); NaN norms give 1 (the
    NaN gradients then reach the weights, as with clip_grad_norm_)."""
    total = float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(list(grads)))))
    return min(1.0, max_norm / (total + 1e-6))


def fusable_layers(model: nn.Module, params: Sequence[nn.Parameter]) -> list[StepLinear]:
    """The StepLinear layers of `model` whose parameters all belong to `params`."""
    ids = {id(p) for p in params}
    layers = [m for m in model.modules() if isinstance(m, StepLinear)]
    return [m for m in layers if all(id(p) in ids for p in m.parameters())]


@contextmanager
def stepping(groups: Sequence[ParamGroup]) -> Iterator[None]:
    """Fused layers switched on for the block; afterwards no gradients are kept (frees a model's worth)."""
    for group in groups:
        group.begin()
    try:
        yield
    finally:
        for group in groups:
            group.zero_grad()
            group.end()


def train_local(ctx: ClientContext, loss_fn: LossFn, groups: Sequence[ParamGroup]) -> float:
    """Run `local_epochs` epochs of SGD on the client's train split; returns the mean batch loss."""
    with stepping(groups):
        return _train_epochs(ctx, loss_fn, groups)


def _train_epochs(ctx: ClientContext, loss_fn: LossFn, groups: Sequence[ParamGroup]) -> float:
    data, settings = ctx.data, ctx.settings
    x_all, y_all = data.train_x.to(ctx.device), data.train_y.to(ctx.device)
    ctx.model.train()
    total, steps = torch.zeros((), device=ctx.device), 0
    for _ in range(settings.local_epochs):
        for idx in shuffled_batches(data.num_train, settings.batch_size, ctx.rng):
            for group in groups:
                group.zero_grad()
            loss = loss_fn(x_all[idx], y_all[idx])
            loss.backward()
            for group in groups:
                group.step()
            total += loss.detach()
            steps += 1
    return float(total) / max(steps, 1)


def model_group(ctx: ClientContext, clip: float | None = None, fused: bool = False) -> ParamGroup:
    """The whole model as one SGD group; `fused=True` only when each layer is used once per step."""
    return ParamGroup(list(ctx.model.parameters()), ctx.settings.lr, clip, fuse_from=ctx.model if fused else None)


def mixes_batch(model: nn.Module) -> bool:
    """Whether a sample's output depends on the other samples of its batch (batch norm in training mode)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in model.modules())


def base_of_both(model: BaseHeadModel, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(base(a), base(b)): one forward pass over both batches when that is the same function, else two."""
    if mixes_batch(model.base):
        return model.base(a), model.base(b)
    both = model.base(torch.cat([a, b]))
    return both[: len(a)], both[len(a) :]


@torch.no_grad()
def map_in_batches(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch: int) -> torch.Tensor:
    """Apply `fn` to x in chunks of `batch` rows and concatenate (for evaluation-sized passes)."""
    return torch.cat([fn(x[i : i + batch]) for i in range(0, x.shape[0], batch)]) if len(x) else x


@torch.no_grad()
def features_of(ctx: ClientContext, x: torch.Tensor) -> torch.Tensor:
    """Eval-mode base features of x, [n, K]."""
    ctx.model.eval()
    return map_in_batches(ctx.model.base, x.to(ctx.device), ctx.settings.eval_batch_size)


def report_accuracy(ctx: ClientContext, round_: int, predictions: torch.Tensor) -> EvalReport:
    """EvalReport for predicted labels of the client's test split."""
    correct = int((predictions.cpu() == ctx.data.test_y).sum())
    return EvalReport(round=round_, client_id=ctx.client_id, correct=correct, total=ctx.data.num_test)


def evaluate_head(ctx: ClientContext, round_: int) -> EvalReport:
    """Accuracy of argmax over the model's own head on the test split."""
    ctx.model.eval()
    with torch.no_grad():
        logits = map_in_batches(ctx.model, ctx.data.test_x.to(ctx.device), ctx.settings.eval_batch_size)
    return report_accuracy(ctx, round_, logits.argmax(dim=1))


class ClassMeanAccumulator:
    """Per-class means of rows produced during training (FedProto's features, FD's logits), over all batches.

    Batches are kept as they come and summed `flush_every` at a time: one index_add per many steps instead of
    per step, with memory bounded by that many batches.
    """

    def __init__(self, num_classes: int, dim: int, device: torch.device, flush_every: int = 64) -> None:
        self.num_classes, self.flush_every = num_classes, flush_every
        self.sums = torch.zeros(num_classes, dim, device=device)
        self.counts = torch.zeros(num_classes, dtype=torch.int64, device=device)
        self.pending: list[tuple[torch.Tensor, torch.Tensor]] = []

    def add(self, values: torch.Tensor, labels: torch.Tensor) -> None:
        self.pending.append((values.detach(), labels))
        if len(self.pending) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            values, labels = (torch.cat(parts) for parts in zip(*self.pending, strict=True))
            sums, counts = wire_protos.class_sums(values.float(), labels, self.num_classes)
            self.sums.add_(sums)
            self.counts.add_(counts)
            self.pending = []

    def means(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(classes seen [n], their mean rows [n, dim])."""
        self.flush()
        return wire_protos.present_means(self.sums, self.counts)


def prototype_update(ctx: ClientContext, round_: int, loss: float) -> ClientUpdate:
    """The upload of FedTGP and FedGH: per-class mean features of the *trained* model (eval mode) on the train split."""
    return class_mean_upload(ctx, round_, loss, features_of(ctx, ctx.data.train_x))
