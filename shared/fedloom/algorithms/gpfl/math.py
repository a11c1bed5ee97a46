"""GPFL math (Zhang et al., "GPFL: Simultaneously Learning Global and Personalized Feature Information for
Personalized Federated Learning", ICCV 2023), as PFLlib computes it (pfl_algorithms.md 10), pure functions.

A conditional valve (CoV) turns the base feature f into a personalised feature f_P = CoV(f, ctx_P), read by
the client's own head, and a global feature f_G = CoV(f, ctx_G), pulled towards the global category
embeddings (GCE, one row e_c per class). The contexts are K-vectors made from the client's GCE rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def valve(features: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """CoV(f, ctx) = ReLU(f * (gamma(ctx) + 1) + beta(ctx)) with gamma(ctx), beta(ctx) K-vectors broadcast over
    the batch: the branches see one context per batch, so they run once per batch, not once per sample."""
    return F.relu(torch.addcmul(beta, features, gamma + 1))


def angle_loss(global_features: torch.Tensor, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """L_ang = batch mean of -log softmax_c(cos(f_G, e_c))[y]: cross-entropy over the cosines between the
    L2-normalised global features and the (trainable) GCE rows, with no scale and no margin."""
    cosines = F.normalize(global_features, dim=1) @ F.normalize(embeddings, dim=1).T
    return F.cross_entropy(cosines, labels)


def alignment_loss(global_features: torch.Tensor, frozen: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """||f_G - E[y]||_F over the whole B x K batch: not squared, not averaged, so it grows with sqrt(B) as in
    PFLlib. E are the rows of the GCE as last received (GCE_frozen): no gradient reaches them."""
    return torch.linalg.vector_norm(global_features - frozen.detach()[labels])


def gpfl_loss(
    logits: torch.Tensor,
    global_features: torch.Tensor,
    embeddings: torch.Tensor,
    frozen: torch.Tensor,
    labels: torch.Tensor,
    lam: float,
) -> torch.Tensor:
    """L = CE(head(f_P), y) + L_ang + lam * ||f_G - E[y]||_F, one backward for base, head, GCE and CoV."""
    return (
        F.cross_entropy(logits, labels)
        + angle_loss(global_features, embeddings, labels)
        + lam * alignment_loss(global_features, frozen, labels)
    )


def label_shares(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """pi_c = n_c / n over the client's full training set (PFLlib counts its drop_last loader instead, missing
    up to B - 1 random samples: pfl_algorithms.md 10 says not to copy that). Zeros for an empty set."""
    counts = torch.bincount(labels, minlength=num_classes).float()
    return counts / counts.sum().clamp_min(1.0)


def contexts(embeddings: torch.Tensor, shares: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(ctx_P, ctx_G) from a [C, K] GCE: ctx_P = sum_c pi_c e_c (the client's label mix), ctx_G = (1/C) sum_c e_c."""
    with torch.no_grad():
        return shares.to(embeddings) @ embeddings, embeddings.mean(dim=0)


def decayed_gradients(
    grads: Sequence[torch.Tensor], params: Sequence[torch.Tensor], weight_decay: float
) -> list[torch.Tensor]:
    """g + mu * p, tensor by tensor: torch.optim.SGD's gradient with weight_decay mu (the GCE's and CoV's
    optimisers, mu = -mu). New tensors; with mu = 0 the gradients themselves."""
    if len(grads) != len(params):
        raise ValueError(f"{len(grads)} gradients for {len(params)} parameters")
    if weight_decay == 0:
        return list(grads)
    return list(torch._foreach_add(list(grads), list(params), alpha=weight_decay))
