"""FedGen math (Zhu et al., ICML'21, as HtFLlib runs it), pure functions and the feature generator.

Glossary: G = feature generator (noise z, label y) -> feature in R^K; heads_i = the uploaded heads
(W_i, b_i); w_i = their train-sample weights; counts = train samples per class over all clients.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class FeatureGenerator(nn.Module):
    """G(z, y) = Linear(hidden, K)(ReLU(BN(Linear(noise + C, hidden)([z, onehot(y)])))) (FedGen's generator).

    It runs with batch statistics (train mode) on the server and on the clients, so only its
    parameters travel; its BatchNorm running statistics are never used.
    """

    def __init__(self, noise_dim: int, num_classes: int, hidden_dim: int, feature_dim: int) -> None:
        super().__init__()
        self.noise_dim, self.num_classes = noise_dim, num_classes
        self.net = nn.Sequential(
            nn.Linear(noise_dim + num_classes, hidden_dim),
            nn.BatchNorm1d(hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, feature_dim),
        )

    def forward(self, noise: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(labels, self.num_classes).to(noise.dtype)
        return self.net(torch.cat([noise, onehot], dim=1))


def sample_labels(counts: torch.Tensor, n: int, rng: torch.Generator) -> torch.Tensor:
    """n labels drawn with probability proportional to `counts` (HtFLlib's choice from `qualified_labels`)."""
    return torch.multinomial(counts.double(), n, replacement=True, generator=rng)


def sample_noise(n: int, noise_dim: int, rng: torch.Generator) -> torch.Tensor:
    """Gaussian noise z ~ N(0, I) as the paper says (HtFLlib drew uniform noise)."""
    return torch.randn(n, noise_dim, generator=rng)


def ensemble_logits(
    features: torch.Tensor, heads: Sequence[tuple[torch.Tensor, torch.Tensor]], weights: torch.Tensor
) -> torch.Tensor:
    """sum_i w_i (W_i f + b_i): the weighted ensemble of the clients' linear heads (FedGen eq. 4's teacher)."""
    stacked = torch.stack([F.linear(features, w, b) for w, b in heads])
    return (weights.to(features.dtype).view(-1, 1, 1) * stacked).sum(0)


def generator_loss(
    features: torch.Tensor,
    labels: torch.Tensor,
    heads: Sequence[tuple[torch.Tensor, torch.Tensor]],
    weights: torch.Tensor,
) -> torch.Tensor:
    """CE(sum_i w_i head_i(G(z, y)), y): the generator learns features every client head labels y."""
    return F.cross_entropy(ensemble_logits(features, heads, weights), labels)
