"""FedL2G math (learning to guide, HtFLlib 2026), pure functions; `torch.func` replaces the `higher` library.

Glossary: V = guiding vectors [C, D] (D = K for "feat", C for "logit"); h = the guided output (features
or logits) [B, D]; theta = the client model's parameters; lr = the client's SGD learning rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch.func import functional_call

from fedloom.algorithms.fedproto.math import average_prototypes
from fedloom.models.base import BaseHeadModel

Batch = tuple[torch.Tensor, torch.Tensor]
Tensors = Mapping[str, torch.Tensor]


def guided_loss(logits: torch.Tensor, guided: torch.Tensor, labels: torch.Tensor, guides: torch.Tensor) -> torch.Tensor:
    """CE(logits, y) + MSE(h, V[y]) with MSE the mean over B x D elements (the client objective)."""
    return F.cross_entropy(logits, labels) + F.mse_loss(guided, guides[labels])


def split_forward(model: BaseHeadModel, params: Tensors, buffers: Tensors, x: torch.Tensor) -> Batch:
    """(features, logits) of a base + head model evaluated at `params` (names as in `named_parameters`)."""

    def sub(prefix: str, tensors: Tensors) -> dict[str, torch.Tensor]:
        return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

    features = functional_call(model.base, (sub("base.", params), sub("base.", buffers)), (x,))
    logits = functional_call(model.head, (sub("head.", params), sub("head.", buffers)), (features,))
    return features, logits


def meta_guide_gradient(
    model: BaseHeadModel,
    study: Sequence[Batch],
    quiz: Sequence[Batch],
    guides: torch.Tensor,
    lr: float,
    on_logits: bool,
) -> tuple[torch.Tensor, float]:
    """dQuiz/dV through one differentiable SGD step, and the quiz loss (FedL2G's meta study).

    theta' = theta - lr * grad_theta mean_s guided_loss(theta; V); quiz = mean_q CE(model(theta'; x_q), y_q).
    Rows of classes absent from the study batches are exactly zero. The model's parameters and
    buffers are left untouched (buffers are cloned, so BatchNorm statistics do not move).
    """
    params = {n: p.detach().requires_grad_(True) for n, p in model.named_parameters()}
    buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
    v = guides.detach().requires_grad_(True)
    study_loss = torch.zeros((), device=v.device)
    for x, y in study:
        features, logits = split_forward(model, params, buffers, x)
        study_loss = study_loss + guided_loss(logits, logits if on_logits else features, y, v)
    grads = torch.autograd.grad(study_loss / len(study), list(params.values()), create_graph=True)
    updated = {n: p - lr * g for (n, p), g in zip(params.items(), grads, strict=True)}
    quiz_loss = sum(
        (F.cross_entropy(split_forward(model, updated, buffers, x)[1], y) for x, y in quiz),
        torch.zeros((), device=v.device),
    )
    quiz_loss = quiz_loss / len(quiz)
    (grad_v,) = torch.autograd.grad(quiz_loss, v)
    return grad_v.detach(), float(quiz_loss.detach())


def mean_class_gradients(labels: torch.Tensor, rows: torch.Tensor, num_classes: int) -> torch.Tensor:
    """[C, D]: per class the mean of the clients' gradient rows; classes nobody sent get zeros."""
    grad = torch.zeros(num_classes, rows.shape[1], dtype=rows.dtype)
    if labels.numel():
        classes, means = average_prototypes(labels, rows, num_classes)
        grad[classes] = means
    return grad


def guide_step(guides: torch.Tensor, grad: torch.Tensor, lr: float, clip: float) -> torch.Tensor:
    """V - lr * g * min(1, clip / (||g|| + 1e-6)): SGD on V with torch's gradient-norm clipping."""
    scale = min(1.0, clip / (float(grad.norm()) + 1e-6))
    return guides - lr * scale * grad
