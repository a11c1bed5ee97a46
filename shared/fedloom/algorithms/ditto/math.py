"""Ditto math (Li et al., "Ditto: Fair and Robust Federated Learning Through Personalization", ICML 2021),
pure functions.

Client k's personal model v_k minimises h_k(v_k; w) = F_k(v_k) + (lambda / 2) ||v_k - w||^2 (eq. 2), w the
global model; Algorithm 1 takes gradient steps v_k <- v_k - eta (grad F_k(v_k) + lambda (v_k - w)). The
global model w is FedAvg's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def perturbed_gradients(
    grads: Sequence[torch.Tensor], personal: Sequence[torch.Tensor], global_: Sequence[torch.Tensor], mu: float
) -> list[torch.Tensor]:
    """grad F_k(v) + mu (v - w), tensor by tensor: the gradient of h_k (eq. 2) at v, with mu = lambda.

    New tensors; the inputs are left as they are. With mu = 0 the gradients themselves are returned.
    """
    if not len(grads) == len(personal) == len(global_):
        raise ValueError(f"{len(grads)} gradients, {len(personal)} personal and {len(global_)} global tensors")
    if mu == 0:
        return list(grads)
    out = torch._foreach_sub(list(personal), list(global_))
    torch._foreach_mul_(out, mu)
    torch._foreach_add_(out, list(grads))
    return list(out)
