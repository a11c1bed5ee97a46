import torch

from fedloom.algorithms.fedrep.math import head_phase_logits, representation_phase_logits


def grad(t: torch.Tensor) -> torch.Tensor:
    assert t.grad is not None, "no gradient reached this tensor"
    return t.grad


def leaves() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    features = torch.tensor([[1.0, 2.0]], requires_grad=True)
    weight = torch.tensor([[1.0, 0.0], [0.5, -1.0]], requires_grad=True)
    bias = torch.tensor([0.0, 3.0], requires_grad=True)
    return features, weight, bias


def test_both_phases_compute_the_head_on_the_features() -> None:
    # [1, 2] W^T + b = [1 + 0, 0.5 - 2 + 3] = [1, 1.5]
    features, weight, bias = leaves()
    assert torch.equal(head_phase_logits(features, weight, bias), torch.tensor([[1.0, 1.5]]))
    assert torch.equal(representation_phase_logits(features, weight, bias), torch.tensor([[1.0, 1.5]]))


def test_the_head_phase_trains_the_head_only() -> None:
    features, weight, bias = leaves()
    head_phase_logits(features, weight, bias).sum().backward()
    assert features.grad is None
    assert torch.equal(grad(weight), torch.tensor([[1.0, 2.0], [1.0, 2.0]]))  # d sum / dW = rows of the feature
    assert torch.equal(grad(bias), torch.ones(2))


def test_the_representation_phase_trains_the_features_only() -> None:
    features, weight, bias = leaves()
    representation_phase_logits(features, weight, bias).sum().backward()
    assert weight.grad is None and bias.grad is None
    assert torch.equal(grad(features), torch.tensor([[1.5, -1.0]]))  # column sums of W
