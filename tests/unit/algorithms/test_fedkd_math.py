import math

import pytest
import torch

from fedloom.algorithms.fedkd.compression import FACTORS, compress, expand
from fedloom.algorithms.fedkd.math import adaptive_losses, energy_threshold, kept_rank, svd_factors, svd_recover
from fedloom.errors import WireError


def test_energy_grows_linearly_to_its_end_value_and_stays_there() -> None:
    assert math.isclose(energy_threshold(0, 10, 0.95, 0.98), 0.953)
    assert math.isclose(energy_threshold(9, 10, 0.95, 0.98), 0.98)
    assert math.isclose(energy_threshold(10, 10, 0.95, 0.98), 0.98)


@pytest.mark.parametrize(("energy", "rank"), [(0.5, 1), (0.9, 2), (0.95, 3), (1.0, 3)])
def test_kept_rank_by_hand(energy: float, rank: int) -> None:
    # squares 9, 4, 1 of 14: cumulative 9/14 = .64, 13/14 = .93, 1
    assert kept_rank(torch.tensor([3.0, 2.0, 1.0]), energy) == rank


def test_kept_rank_is_never_zero() -> None:
    # HtFLlib keeps r with sum(s[:r]^2) > T * total for r < n only: 0 here, the tensor sent as zeros
    assert kept_rank(torch.ones(10), 0.98) == 10
    assert kept_rank(torch.zeros(3), 0.95) == 1


def test_truncated_svd_of_a_rank_one_matrix_is_exact() -> None:
    matrix = torch.outer(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0, 5.0])).double()
    u, s, v = svd_factors(matrix, 0.95)
    assert (u.shape, s.shape, v.shape) == ((2, 1), (1,), (1, 3))
    torch.testing.assert_close(svd_recover(u, s, v), matrix)


def test_compression_sends_factors_only_when_smaller() -> None:
    low_rank = torch.outer(torch.arange(1.0, 9.0), torch.ones(18)).reshape(8, 2, 3, 3)  # a conv kernel, rank 1
    params = {"w": low_rank, "b": torch.ones(8), "full": torch.eye(4)}
    sent = compress(params, 0.95)
    assert sorted(sent) == sorted(["b", "full", *("w" + f for f in FACTORS)])
    assert sent["w.svd_u"].shape == (8, 1) and sent["w.svd_v"].shape == (1, 18)
    back = expand(sent, {name: tuple(t.shape) for name, t in params.items()})
    for name, tensor in params.items():
        torch.testing.assert_close(back[name], tensor)


def test_expand_refuses_rank_zero_and_wrong_names_or_shapes() -> None:
    shapes = {"w": (4, 6)}
    good = compress({"w": torch.outer(torch.ones(4), torch.ones(6))}, 0.95)
    with pytest.raises(WireError, match="rank"):
        expand({**good, "w.svd_s": torch.zeros(0)}, shapes)
    with pytest.raises(WireError, match="unexpected"):
        expand({**good, "x": torch.zeros(1)}, shapes)
    with pytest.raises(WireError, match="svd_u"):
        expand({**good, "w.svd_u": torch.zeros(5, 1)}, shapes)
    with pytest.raises(WireError, match="must be float32"):
        expand({"w": torch.zeros(4, 5)}, shapes)


def test_adaptive_losses_by_hand_with_detached_peer_and_scale() -> None:
    out = torch.zeros(1, 2, requires_grad=True)
    out_g = torch.tensor([[math.log(3.0), 0.0]], requires_grad=True)
    f = torch.ones(1, 3)
    mentor, mentee = adaptive_losses(out, out_g, f, f.clone(), torch.tensor([0]))
    ce, ce_g = math.log(2.0), -math.log(0.75)
    kl_q_p = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert math.isclose(float(mentor), ce + kl_q_p / (ce + ce_g), rel_tol=1e-6)
    mentor.backward()
    assert out_g.grad is None  # the mentee's distribution and CE_g in the scale are constants for the mentor
    assert mentee.requires_grad
