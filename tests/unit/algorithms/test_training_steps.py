"""The SGD building blocks: a clipped step equals clip_grad_norm_ + torch.optim.SGD; one joint forward pass
over two batches equals two passes where the model lets it."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fedloom.algorithms.training import ParamGroup, base_of_both, clip_coefficient
from fedloom.models import BaseHeadModel, build_client_model


def loss_of(model: nn.Module, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(10, 1, 28, 28, generator=g), torch.randint(0, 10, (10,), generator=g)
    return 1e3 * F.cross_entropy(model(x), y)  # large enough that a clip at 1.0 bites


@pytest.mark.parametrize("clip", [1.0, 1e9])
def test_clipped_step_equals_clip_grad_norm_then_sgd(clip: float) -> None:
    torch.manual_seed(0)
    ours = build_client_model("hcnn8", 1, (1, 28, 28), 10, 64)
    reference = copy.deepcopy(ours)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.01)
    group = ParamGroup(list(ours.parameters()), lr=0.01, clip=clip)
    for seed in range(3):
        optimizer.zero_grad()
        loss_of(reference, seed).backward()
        nn.utils.clip_grad_norm_(reference.parameters(), clip)
        optimizer.step()
        group.zero_grad()
        loss_of(ours, seed).backward()
        group.step()
    for (name, a), b in zip(reference.named_parameters(), ours.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name


def test_clip_coefficient_on_a_hand_checked_case() -> None:
    grads = [torch.tensor([3.0]), torch.tensor([4.0])]  # norm 5
    assert clip_coefficient(grads, 1.0) == pytest.approx(1 / 5, rel=1e-5)
    assert clip_coefficient(grads, 10.0) == 1.0


def test_joint_forward_equals_two_passes_without_batch_norm() -> None:
    torch.manual_seed(0)
    model = build_client_model("hcnn8", 3, (1, 28, 28), 10, 64)
    a, b = torch.randn(10, 1, 28, 28), torch.randn(7, 1, 28, 28)
    fa, fb = base_of_both(model, a, b)
    assert torch.allclose(fa, model.base(a), atol=1e-5) and torch.allclose(fb, model.base(b), atol=1e-5)


def test_batch_norm_in_training_mode_keeps_the_batches_apart() -> None:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.BatchNorm1d(8))
    model = BaseHeadModel(base, nn.Linear(8, 2), 8, "bn")
    a, b = torch.randn(6, 4), torch.randn(6, 4) + 5
    fa, fb = base_of_both(model, a, b)
    assert torch.allclose(fa, model.base(a)) and torch.allclose(fb, model.base(b))
