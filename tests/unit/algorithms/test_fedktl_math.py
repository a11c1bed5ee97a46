import math

import pytest
import torch

from fedloom.algorithms.fedktl.math import arcface_logits, etf_cosines, etf_prototypes, etf_vectors, mmd_rbf


@pytest.mark.parametrize("classes", [2, 3, 10, 100])
def test_etf_rows_are_unit_vectors_with_cosine_minus_one_over_c_minus_one(classes: int) -> None:
    e = etf_vectors(classes, torch.Generator().manual_seed(0))
    gram = e @ e.T
    expected = torch.full((classes, classes), -1.0 / (classes - 1)).fill_diagonal_(1.0)
    assert torch.allclose(gram, expected, atol=1e-5)
    assert torch.allclose(e.sum(dim=0), torch.zeros(classes), atol=1e-5)  # simplex: rows sum to zero


def test_etf_is_a_function_of_the_seed() -> None:
    a = etf_vectors(5, torch.Generator().manual_seed(3))
    b = etf_vectors(5, torch.Generator().manual_seed(3))
    c = etf_vectors(5, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_arcface_widens_only_the_target_angle() -> None:
    etf = torch.eye(2)
    z = torch.tensor([[1.0, 1.0]])  # 45 degrees from both vectors
    logits = arcface_logits(z, etf, torch.tensor([0]), margin=0.5, scale=64.0)
    assert math.isclose(float(logits[0, 0]), 64 * math.cos(math.pi / 4 + 0.5), rel_tol=1e-5)
    assert math.isclose(float(logits[0, 1]), 64 * math.cos(math.pi / 4), rel_tol=1e-5)


def test_arcface_gradient_is_finite_when_aligned_with_the_target() -> None:
    etf = torch.eye(3)
    z = torch.tensor([[2.0, 0.0, 0.0]], requires_grad=True)
    logits = arcface_logits(z, etf, torch.tensor([0]), margin=0.5, scale=64.0)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0])).backward()
    assert z.grad is not None and torch.isfinite(z.grad).all()


def test_cosines_and_prototypes_are_normalised_means_of_normalised_outputs() -> None:
    z = torch.tensor([[2.0, 0.0], [0.0, 5.0], [3.0, 0.0]])
    classes, protos = etf_prototypes(z, torch.tensor([0, 0, 1]), num_classes=3)
    assert classes.tolist() == [0, 1]
    s = 1 / math.sqrt(2)
    assert torch.allclose(protos, torch.tensor([[s, s], [1.0, 0.0]]), atol=1e-6)
    assert torch.allclose(etf_cosines(z[:1], torch.eye(2)), torch.tensor([[1.0, 0.0]]))


def test_mmd_is_zero_for_identical_sets_and_matches_a_hand_computed_pair() -> None:
    x = torch.randn(6, 4)
    assert float(mmd_rbf(x, x)) == pytest.approx(0.0, abs=1e-6)
    a, d = 10.0, 2.0
    value = mmd_rbf(torch.tensor([[0.0]]), torch.tensor([[d]]), bandwidths=(a,))
    assert float(value) == pytest.approx(2 - 2 * math.exp(-(d**2) / (2 * a)), rel=1e-6)
