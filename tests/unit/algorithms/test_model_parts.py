import pytest
import torch
from torch import nn

from fedloom.algorithms.model_parts import (
    all_finite,
    average_parts,
    check_part,
    check_same_head_shapes,
    load_part,
    part_shapes,
    part_tensors,
    select_part,
)
from fedloom.errors import WireError


def small_net() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))


def test_parts_carry_parameters_but_not_batchnorm_buffers() -> None:
    tensors = part_tensors(small_net(), "shared.")
    assert sorted(tensors) == ["shared.0.bias", "shared.0.weight", "shared.1.bias", "shared.1.weight"]


def test_load_part_copies_parameters_and_keeps_local_buffers() -> None:
    source, target = small_net(), small_net()
    target[1].running_mean.fill_(7.0)
    load_part(target, {**part_tensors(source, "m."), "other.x": torch.zeros(1)}, "m.")
    assert torch.equal(target[0].weight, source[0].weight)
    assert torch.equal(target[1].running_mean, torch.full((2,), 7.0))


def test_weighted_average_by_hand() -> None:
    a = {"w": torch.tensor([1.0, 2.0])}
    b = {"w": torch.tensor([3.0, 6.0])}
    assert torch.equal(average_parts([a, b])["w"], torch.tensor([2.0, 4.0]))
    assert torch.equal(average_parts([a, b], [3, 1])["w"], torch.tensor([1.5, 3.0]))
    assert average_parts([a, b])["w"].dtype == torch.float32


@pytest.mark.parametrize("weights", [[1.0], [0.0, 0.0], [-1.0, 2.0]])
def test_bad_weights_are_refused(weights: list[float]) -> None:
    with pytest.raises(ValueError):
        average_parts([{"w": torch.ones(1)}, {"w": torch.ones(1)}], weights)


def test_uploads_with_wrong_names_shapes_or_values_are_refused() -> None:
    expected = part_shapes(nn.Linear(3, 2), "h.")
    good = part_tensors(nn.Linear(3, 2), "h.")
    check_part(good, expected)
    with pytest.raises(WireError, match="missing"):
        check_part(select_part(good, "h.w"), expected)
    with pytest.raises(WireError, match="float32"):
        check_part({**good, "h.bias": torch.zeros(3)}, expected)
    with pytest.raises(WireError, match="finite"):
        check_part({**good, "h.bias": torch.tensor([0.0, float("nan")])}, expected)


def test_heterogeneous_heads_get_a_clear_error() -> None:
    check_same_head_shapes([(10, 512), (10, 512)])
    with pytest.raises(WireError, match="identical shapes"):
        check_same_head_shapes([(10, 512), (10, 256)])


@pytest.mark.parametrize(
    ("values", "finite"),
    [
        ([1.0, -2.0, 0.0], True),
        ([], True),
        ([3e38] * 1000, True),  # a float32 sum would overflow; the float64 one does not
        ([-3e38, -3e38, 3e38], True),
        ([1.0, float("nan")], False),
        ([float("inf"), 1.0], False),
        ([float("-inf")], False),
        ([float("inf"), float("-inf")], False),  # their sum is NaN, not 0
    ],
)
def test_all_finite_agrees_with_isfinite(values: list[float], finite: bool) -> None:
    t = torch.tensor(values, dtype=torch.float32)
    assert all_finite(t) is finite
    assert bool(torch.isfinite(t).all()) is finite
