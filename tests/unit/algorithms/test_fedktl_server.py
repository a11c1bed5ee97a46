"""FedKTL's server alignment reports mean losses per batch of its last epoch, not their sums."""

from __future__ import annotations

import pytest
import torch

from fedloom.algorithms.base import ServerEnv, TrainSettings
from fedloom.algorithms.fedktl.config import FedKTLConfig
from fedloom.algorithms.fedktl.server import FedKTLServer
from fedloom.generation.backends import load_generator

C = 4


def align_losses(pairs: int) -> dict[str, float]:
    """Alignment on `pairs` identical prototypes of one class (every batch sees the same rows) with a step too
    small to move anything: each batch's MSE is the same number, so their mean does not depend on the count."""
    config = FedKTLConfig(server_epochs=1, server_batch_size=8, server_lr=1e-12)
    server = FedKTLServer(config)
    env = ServerEnv(C, 16, TrainSettings(), seed=0, input_shape=(1, 8, 8), generator=load_generator("tiny"))
    state = server.init(env)
    protos = torch.ones(pairs, C)
    return server.align(state, torch.zeros(pairs, dtype=torch.long), protos)


def test_alignment_losses_are_means_over_the_batches() -> None:
    one, four = align_losses(8), align_losses(32)  # one batch of 8, four batches of 8
    assert one["align_mse"] > 0
    assert four["align_mse"] == pytest.approx(one["align_mse"], rel=1e-5)  # a sum would be four times as large
