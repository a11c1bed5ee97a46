import torch

from fedloom.algorithms.fedbabu.math import frozen_head_logits


def grad(t: torch.Tensor) -> torch.Tensor:
    assert t.grad is not None, "no gradient reached this tensor"
    return t.grad


def test_the_fixed_head_passes_gradients_to_the_body_only() -> None:
    features = torch.tensor([[2.0, -1.0]], requires_grad=True)
    weight = torch.tensor([[1.0, 1.0], [0.0, 2.0]], requires_grad=True)
    bias = torch.tensor([0.5, 0.0], requires_grad=True)
    logits = frozen_head_logits(features, weight, bias)
    assert torch.equal(logits, torch.tensor([[1.5, -2.0]]))  # [2 - 1 + 0.5, 0 - 2 + 0]
    logits.sum().backward()
    assert weight.grad is None and bias.grad is None
    assert torch.equal(grad(features), torch.tensor([[1.0, 3.0]]))  # column sums of W
