"""The one weighted parameter average (FedAvg's server update), checked by hand."""

import pytest
import torch

from fedloom.algorithms.model_parts import average_parts
from fedloom.algorithms.weight_average import normalised_weights, weighted_average


def test_sample_weighted_mean_by_hand() -> None:
    # weights 30 and 10 -> 0.75 and 0.25: 0.75 * [1, 2] + 0.25 * [5, 10] = [2, 4]; bias 0.75 * 4 + 0.25 * 8 = 5
    a = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor(4.0)}
    b = {"w": torch.tensor([5.0, 10.0]), "b": torch.tensor(8.0)}
    average = weighted_average([a, b], [30, 10])
    assert torch.equal(average["w"], torch.tensor([2.0, 4.0]))
    assert torch.equal(average["b"], torch.tensor(5.0))
    assert average["w"].dtype == torch.float32 and sorted(average) == ["b", "w"]


def test_a_single_client_is_returned_unchanged_and_inputs_are_not_modified() -> None:
    a = {"w": torch.tensor([0.1, -3.0], dtype=torch.float64)}
    average = weighted_average([a], [7])
    assert torch.equal(average["w"], a["w"]) and average["w"] is not a["w"]
    assert torch.equal(a["w"], torch.tensor([0.1, -3.0], dtype=torch.float64))


def test_the_sum_runs_in_float64() -> None:
    # in float32, 1e8 + 1 - 1e8 loses the 1; the float64 sum of 0.5 * (2e8 + 2) and 0.5 * (-2e8) keeps it
    a, b = {"w": torch.tensor([2e8 + 2], dtype=torch.float64)}, {"w": torch.tensor([-2e8], dtype=torch.float64)}
    assert float(weighted_average([a, b], [1, 1])["w"]) == 1.0


def test_normalised_weights() -> None:
    assert normalised_weights([3, 1], 2) == [0.75, 0.25]


@pytest.mark.parametrize("weights", [[1.0], [0.0, 0.0], [-1.0, 2.0], [float("nan"), 1.0]])
def test_bad_weights_are_refused(weights: list[float]) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        weighted_average([{"w": torch.ones(1)}, {"w": torch.ones(1)}], weights)


def test_mismatched_clients_are_refused() -> None:
    with pytest.raises(ValueError, match="nothing"):
        weighted_average([], [])
    with pytest.raises(ValueError, match="client 1 holds"):
        weighted_average([{"w": torch.ones(1)}, {"v": torch.ones(1)}], [1, 1])
    with pytest.raises(ValueError, match="shape"):
        weighted_average([{"w": torch.ones(1)}, {"w": torch.ones(2)}], [1, 1])


def test_average_parts_is_the_same_average() -> None:
    gen = torch.Generator().manual_seed(0)
    parts = [{"w": torch.randn(5, 3, generator=gen)} for _ in range(4)]
    assert torch.equal(average_parts(parts, [1, 2, 3, 4])["w"], weighted_average(parts, [1, 2, 3, 4])["w"])
    assert torch.equal(average_parts(parts)["w"], weighted_average(parts, [1, 1, 1, 1])["w"])
