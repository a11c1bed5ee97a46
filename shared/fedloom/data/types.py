"""The in-memory shape of a federated data set: per-client tensors, nothing on disk during training."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class ClientData:
    """One client's private data, already split 75/25 into train and test.

    Images are float32 [n, C, H, W] normalised like ToTensor + Normalize(0.5, 0.5), i.e. in [-1, 1];
    labels are int64 [n] in 0..num_classes-1.
    """

    client_id: int
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor

    @property
    def num_train(self) -> int:
        return int(self.train_y.numel())

    @property
    def num_test(self) -> int:
        return int(self.test_y.numel())


@dataclass(frozen=True)
class FederatedDataset:
    """All clients' data plus what models need to know about it."""

    name: str
    num_classes: int
    input_shape: tuple[int, int, int]
    clients: list[ClientData]
    statistics: dict[str, object] = field(default_factory=dict)
