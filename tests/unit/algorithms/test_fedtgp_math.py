import math

import torch

from fedloom.algorithms.fedtgp.math import PrototypeGenerator, acl_loss, class_margin, pairwise_distance


def test_margin_is_largest_nearest_other_class_distance_capped_by_threshold() -> None:
    q = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [7.0, 7.0]])
    present = torch.tensor([0, 1, 2])  # class 3 absent this round
    # nearest others: c0 -> 3, c1 -> 3, c2 -> 4; max = 4
    assert class_margin(q, present, threshold=100.0) == 4.0
    assert class_margin(q, present, threshold=2.5) == 2.5
    assert class_margin(q, torch.tensor([1]), threshold=100.0) == 100.0


def test_pairwise_distance_matches_cdist_and_has_finite_gradient_at_zero() -> None:
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    c = torch.tensor([[0.0, 0.0], [6.0, 8.0]])
    d = pairwise_distance(x, c)
    assert torch.allclose(d, torch.tensor([[0.0, 10.0], [5.0, 5.0]]), atol=1e-5)
    d.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_acl_loss_adds_the_margin_to_the_true_class_distance() -> None:
    protos = torch.tensor([[0.0, 0.0]])
    centres = torch.tensor([[0.0, 0.0], [3.0, 0.0]])
    loss = acl_loss(protos, torch.tensor([0]), centres, margin=1.0)
    # logits = [-(0 + 1), -3] -> CE = log(1 + e^-2)
    assert math.isclose(float(loss), math.log(1 + math.exp(-2)), rel_tol=1e-5)


def test_generator_maps_class_ids_to_prototypes() -> None:
    gen = PrototypeGenerator(num_classes=10, feature_dim=16)
    assert gen(torch.arange(10)).shape == (10, 16)
    assert sum(p.numel() for p in gen.parameters()) == 10 * 16 + 2 * (16 * 16 + 16)


def test_all_prototypes_is_the_generator_on_every_class_with_the_same_gradients() -> None:
    torch.manual_seed(0)
    gen = PrototypeGenerator(num_classes=5, feature_dim=8)
    by_ids = gen(torch.arange(5))
    by_ids.pow(2).sum().backward()
    grads = [p.grad.clone() for p in gen.parameters() if p.grad is not None]
    gen.zero_grad()
    direct = gen.all_prototypes()
    direct.pow(2).sum().backward()
    assert torch.equal(by_ids, direct)
    assert all(torch.equal(a, p.grad) for a, p in zip(grads, gen.parameters(), strict=True))
