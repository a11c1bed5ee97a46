import pytest
import torch

from fedloom.algorithms.ditto.math import perturbed_gradients


def test_the_gradient_of_the_personal_objective_by_hand() -> None:
    # g + mu (v - w) with mu = 0.5: [1, 2] + 0.5 [3 - 1, 5 - 1] = [2, 4]; the scalar: -1 + 0.5 (0 - 2) = -2
    grads, personal, global_ = (
        [torch.tensor([1.0, 2.0]), torch.tensor(-1.0)],
        [torch.tensor([3.0, 5.0]), torch.tensor(0.0)],
        [torch.tensor([1.0, 1.0]), torch.tensor(2.0)],
    )
    out = perturbed_gradients(grads, personal, global_, 0.5)
    assert torch.equal(out[0], torch.tensor([2.0, 4.0])) and torch.equal(out[1], torch.tensor(-2.0))
    assert torch.equal(grads[0], torch.tensor([1.0, 2.0])) and torch.equal(personal[0], torch.tensor([3.0, 5.0]))


def test_mu_zero_is_plain_sgd_and_lengths_must_match() -> None:
    grads = [torch.tensor([1.0])]
    assert perturbed_gradients(grads, [torch.tensor([9.0])], [torch.tensor([0.0])], 0.0)[0] is grads[0]
    with pytest.raises(ValueError, match="1 gradients, 2 personal"):
        perturbed_gradients(grads, [torch.ones(1), torch.ones(1)], [torch.ones(1)], 0.1)
