import math

import torch

from fedloom.algorithms.fedgh.math import epoch_batches, head_loss


def test_head_loss_is_cross_entropy_of_the_linear_head_on_prototypes() -> None:
    prototypes = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    weight = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    bias = torch.zeros(2)
    # logits [1, 0] -> CE for class 0 = log(1 + e^-1); logits [0, 2] -> CE for class 1 = log(1 + e^-2)
    expected = (math.log(1 + math.exp(-1)) + math.log(1 + math.exp(-2))) / 2
    assert math.isclose(float(head_loss(prototypes, torch.tensor([0, 1]), weight, bias)), expected, rel_tol=1e-6)


def test_epoch_covers_every_pair_once_in_seeded_order() -> None:
    batches = epoch_batches(7, 3, torch.Generator().manual_seed(0))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert sorted(torch.cat(batches).tolist()) == list(range(7))
    again = epoch_batches(7, 3, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(batches, again, strict=True))
