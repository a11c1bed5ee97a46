"""Per-client train/test split (seeded shuffle, no stratification, like PFLlib's 75/25 split)."""

from __future__ import annotations

import math

import numpy as np
import torch

from fedloom.data.dirichlet import IndexArray
from fedloom.data.raw import RawDataset
from fedloom.data.types import ClientData

_SPLIT_STREAM = 1  # keeps the split's random stream apart from the partition's (same user seed)


def split_sizes(num_samples: int, train_ratio: float) -> tuple[int, int]:
    """(n_train, n_test) with n_train = floor(train_ratio * n): 75/25 of 10 samples is 7/3."""
    n_train = math.floor(train_ratio * num_samples)
    return n_train, num_samples - n_train


def train_test_split(
    indices: IndexArray, train_ratio: float, rng: np.random.Generator
) -> tuple[IndexArray, IndexArray]:
    """Shuffle one client's indices; the first n_test go to test, the rest to train."""
    _, n_test = split_sizes(len(indices), train_ratio)
    shuffled = indices[rng.permutation(len(indices))]
    return shuffled[n_test:], shuffled[:n_test]


def build_clients(raw: RawDataset, parts: list[IndexArray], train_ratio: float, seed: int) -> list[ClientData]:
    """ClientData per part, in part order; client ids are 0..len(parts)-1."""
    rng = np.random.default_rng([seed, _SPLIT_STREAM])
    x, y = raw.x.numpy(), raw.y.numpy()  # numpy's row gather is several times faster than torch's here
    clients = []
    for cid, part in enumerate(parts):
        train_idx, test_idx = train_test_split(part, train_ratio, rng)
        clients.append(
            ClientData(
                client_id=cid,
                train_x=torch.from_numpy(x[train_idx]),
                train_y=torch.from_numpy(y[train_idx]),
                test_x=torch.from_numpy(x[test_idx]),
                test_y=torch.from_numpy(y[test_idx]),
            )
        )
    return clients
