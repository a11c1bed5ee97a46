import pytest
import torch

from fedloom.algorithms.fedavg.math import fedavg_average, fedavg_weights


def test_weights_are_sample_shares() -> None:
    assert fedavg_weights([30, 10]) == [0.75, 0.25]
    assert fedavg_weights([0, 0]) == [0.5, 0.5]  # nobody has data: plain mean
    with pytest.raises(ValueError, match="non-negative"):
        fedavg_weights([3, -1])


def test_average_by_hand() -> None:
    # 0.75 * [2, -4] + 0.25 * [6, 4] = [3, -2]
    uploads = [{"base.w": torch.tensor([2.0, -4.0])}, {"base.w": torch.tensor([6.0, 4.0])}]
    assert torch.equal(fedavg_average(uploads, [3, 1])["base.w"], torch.tensor([3.0, -2.0]))
