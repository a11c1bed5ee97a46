"""StepLinear folds plain SGD into backward: the same steps as autograd + torch.optim.SGD."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fedloom.algorithms.training import ParamGroup
from fedloom.models import build_client_model
from fedloom.models.step_linear import StepLinear


def sgd_steps(model: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]], group: ParamGroup) -> None:
    group.begin()
    try:
        for x, y in batches:
            group.zero_grad()
            F.cross_entropy(model(x), y).backward()
            group.step()
    finally:
        group.end()


def batches(shape: tuple[int, ...], n: int = 3) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(10, *shape, generator=g), torch.randint(0, 10, (10,), generator=g)) for _ in range(n)]


@pytest.mark.parametrize("index", [0, 7])
def test_fused_steps_equal_optimizer_steps_on_hcnn8(index: int) -> None:
    torch.manual_seed(index)
    plain = build_client_model("hcnn8", index, (1, 28, 28), 10, 64)
    fused = copy.deepcopy(plain)
    data = batches((1, 28, 28))
    sgd_steps(plain, data, ParamGroup(list(plain.parameters()), lr=0.05))
    group = ParamGroup(list(fused.parameters()), lr=0.05, fuse_from=fused)
    assert len(group.fused) == sum(isinstance(m, StepLinear) for m in fused.modules()) >= 2
    sgd_steps(fused, data, group)
    for (name, a), b in zip(plain.named_parameters(), fused.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name
    assert all(m.step_lr is None for m in fused.modules() if isinstance(m, StepLinear))


def test_a_layer_used_twice_in_one_step_fails_loudly() -> None:
    layer = StepLinear(4, 4)
    group = ParamGroup(list(layer.parameters()), lr=0.1, fuse_from=layer)
    group.begin()
    x = torch.randn(2, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="inplace"):
        layer(layer(x)).sum().backward()
    group.end()


def test_weights_used_outside_the_layer_are_reported() -> None:
    layer = StepLinear(4, 2)
    group = ParamGroup(list(layer.parameters()), 0.1, fuse_from=layer)
    group.begin()
    (layer(torch.randn(3, 4)).sum() + layer.weight.sum()).backward()
    with pytest.raises(RuntimeError, match="outside"):
        group.end()


def test_clipped_groups_and_partial_groups_are_not_fused() -> None:
    model = nn.Sequential(StepLinear(4, 4), StepLinear(4, 2))
    assert ParamGroup(list(model.parameters()), 0.1, clip=10.0, fuse_from=model).fused == []
    assert ParamGroup(list(model[1].parameters()), 0.1, fuse_from=model).fused == [model[1]]


def test_without_grad_the_layer_is_an_ordinary_linear() -> None:
    layer = StepLinear(3, 2)
    layer.step_lr = 0.1
    x = torch.randn(5, 3)
    with torch.no_grad():
        assert torch.allclose(layer(x), F.linear(x, layer.weight, layer.bias), atol=1e-6)


def test_the_forward_product_is_f_linear_bit_for_bit() -> None:
    """One product form in every process: the same inputs give the same bits (no per-process timing choice)."""
    g = torch.Generator().manual_seed(1)
    x, w, b = (torch.randn(*shape, generator=g) for shape in ((10, 256), (128, 256), (128,)))
    layer = StepLinear(256, 128)
    with torch.no_grad():
        layer.weight.copy_(w)
        layer.bias.copy_(b)
    assert torch.equal(layer(x), F.linear(x, w, b))
    layer.step_lr = 0.1
    assert torch.equal(layer(x.requires_grad_()), F.linear(x, w, b))
