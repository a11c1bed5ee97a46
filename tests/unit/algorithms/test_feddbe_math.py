import pytest
import torch

from fedloom.algorithms.feddbe.math import global_mean, mean_regulariser, running_mean


def test_running_mean_is_a_zero_started_ema_by_hand() -> None:
    # m = 0.1: 0.9 * [0, 0] + 0.1 * mean([[1, 2], [3, 6]]) = 0.1 * [2, 4]; then 0.9 * [0.2, 0.4] + 0.1 * [1, 1]
    first = running_mean(torch.zeros(2), torch.tensor([[1.0, 2.0], [3.0, 6.0]]), 0.1)
    assert torch.allclose(first, torch.tensor([0.2, 0.4]))
    second = running_mean(first, torch.ones(3, 2), 0.1)
    assert torch.allclose(second, torch.tensor([0.28, 0.46]))
    assert torch.equal(running_mean(first, torch.ones(3, 2), 1.0), torch.ones(2))  # m = 1: the batch mean


def test_mean_regulariser_by_hand() -> None:
    # mean(0.5 * [1, 4]) = 1.25
    assert float(mean_regulariser(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0]))) == pytest.approx(1.25)


def test_global_mean_is_sample_weighted() -> None:
    # (1 * [0, 4] + 3 * [4, 0]) / 4 = [3, 1]
    out = global_mean([torch.tensor([0.0, 4.0]), torch.tensor([4.0, 0.0])], [1, 3])
    assert torch.allclose(out, torch.tensor([3.0, 1.0]))
    with pytest.raises(ValueError, match="at least one client"):
        global_mean([], [])
