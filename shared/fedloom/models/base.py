"""Every client model is a feature extractor `base` (ending in a K-dim feature) plus a `head`."""

from __future__ import annotations

import torch
from torch import nn


class BaseHeadModel(nn.Module):
    """`forward(x) = head(base(x))`; `base(x)` has shape [n, feature_dim]."""

    def __init__(self, base: nn.Module, head: nn.Module, feature_dim: int, arch: str) -> None:
        super().__init__()
        self.base = base
        self.head = head
        self.feature_dim = feature_dim
        self.arch = arch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.base(x))
