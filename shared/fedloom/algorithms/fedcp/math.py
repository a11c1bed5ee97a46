"""FedCP math (Zhang et al., "FedCP: Separating Feature Information for Personalized Federated Learning via
Conditional Policy", KDD 2023), pure functions; what PFLlib computes is pfl_algorithms.md 9.

A conditional policy network (CPN) reads each feature r (times the client's normalised context c) and splits
it per sample and per coordinate into a personal share m_p and a global share m_g = 1 - m_p, drawn with the
Gumbel-softmax over the two channels (tau = 1, soft). The logits add the personal head on r * m_p and the
frozen global head on r * m_g. An MMD term with a 4-bandwidth Gaussian kernel keeps the base's features close
to those of the frozen global base on the same batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

INITIAL_CONTEXT_SEED = 0
"""The initial context is torch.rand(K) from a generator seeded with 0, identical for every client: PFLlib
draws torch.rand(1, K) right after its per-client torch.manual_seed(0), which gives the very same values."""


def initial_context(dim: int) -> torch.Tensor:
    """c before the client's first trained head: U[0, 1)^K, the same vector for every client and run."""
    return torch.rand(dim, generator=torch.Generator().manual_seed(INITIAL_CONTEXT_SEED))


def context_from_head(head_weight: torch.Tensor) -> torch.Tensor:
    """c = sum over classes (rows) of the personal head's weight [C, K] -> [K]."""
    return head_weight.sum(dim=0)


def normalised_context(context: torch.Tensor) -> torch.Tensor:
    """c / ||c||_2 (F.normalize's guard against a zero vector)."""
    return F.normalize(context, p=2.0, dim=-1)


def logistic_noise(shape: Sequence[int], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Logistic(0, 1) samples log(u / (1 - u)), u ~ U(0, 1): the difference of two independent Gumbel(0, 1)
    draws, which is all the two-channel Gumbel-softmax needs (one uniform per coordinate instead of two)."""
    u = torch.rand(tuple(shape), generator=generator, device=device)
    return u.clamp_min_(torch.finfo(u.dtype).tiny).logit_()


def policy_masks(policy_out: torch.Tensor, noise: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """The personal share m_p [B, K] of `F.gumbel_softmax(policy_out.view(B, 2, K), tau, hard=False, dim=1)`.

    Channel 0 (outputs 0..K-1) is the personal one, channel 1 (K..2K-1) the global one. A softmax over two
    entries is a sigmoid of their difference: m_p = sigmoid((l_p + g_p - l_g - g_g) / tau), with
    `noise` = g_p - g_g ~ Logistic(0, 1) (`logistic_noise`); m_g = 1 - m_p.
    """
    personal, global_ = policy_out.view(policy_out.shape[0], 2, -1).unbind(dim=1)
    difference = personal - global_ + noise
    return torch.sigmoid(difference if tau == 1.0 else difference / tau)


def split_features(features: torch.Tensor, personal_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(r * m_p, r * m_g) with m_g = 1 - m_p, computed as r - r * m_p."""
    personal = features * personal_mask
    return personal, features - personal


def mixed_head(personal: torch.Tensor, global_: torch.Tensor) -> torch.Tensor:
    """head_g after training: 0.5 head_p + 0.5 head_g (a new tensor; the client copies it in place)."""
    return 0.5 * personal + 0.5 * global_
