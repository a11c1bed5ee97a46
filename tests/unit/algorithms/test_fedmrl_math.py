import math

import torch

from fedloom.algorithms.fedmrl.math import fuse, matryoshka_loss


def test_fuse_concatenates_shared_then_own_features_and_projects() -> None:
    weight = torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, -1.0]])
    r = fuse(torch.tensor([[1.0]]), torch.tensor([[2.0, 3.0]]), weight, torch.tensor([0.0, 1.0]))
    torch.testing.assert_close(r, torch.tensor([[6.0, 0.0]]))


def test_matryoshka_loss_adds_both_heads_cross_entropies() -> None:
    loss = matryoshka_loss(torch.zeros(2, 4), torch.zeros(2, 4), torch.tensor([0, 3]))
    assert math.isclose(float(loss), 2 * math.log(4.0), rel_tol=1e-6)
