"""FedCP's pure functions (pfl_algorithms.md 9) against values worked out by hand."""

import math

import pytest
import torch
import torch.nn.functional as F

from fedloom.algorithms.fedcp.math import (
    context_from_head,
    initial_context,
    logistic_noise,
    mixed_head,
    normalised_context,
    policy_masks,
    split_features,
)
from fedloom.algorithms.fedcp.parts import policy_network
from fedloom.algorithms.mmd import MMD_BANDWIDTHS, gaussian_kernels, mmd, mmd_block_weights, squared_distances
from fedloom.models import count_parameters


def kernel(d: float) -> float:
    """sum over sigma in {10, 15, 20, 50} of exp(-d / (2 sigma)), written out."""
    return math.exp(-d / 20) + math.exp(-d / 30) + math.exp(-d / 40) + math.exp(-d / 100)


def test_squared_distances_of_a_3_4_5_triangle() -> None:
    z = torch.tensor([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0]])
    expected = torch.tensor([[0.0, 25.0, 9.0], [25.0, 0.0, 16.0], [9.0, 16.0, 0.0]])
    assert torch.equal(squared_distances(z), expected)


def test_the_kernel_sums_four_bandwidths_of_exp_minus_d_over_two_sigma() -> None:
    assert MMD_BANDWIDTHS == (10.0, 15.0, 20.0, 50.0)
    d = torch.tensor([[0.0, 2.0], [25.0, 100.0]])
    expected = torch.tensor([[4.0, kernel(2.0)], [kernel(25.0), kernel(100.0)]])
    assert torch.allclose(gaussian_kernels(d), expected, rtol=1e-6)
    assert kernel(2.0) == pytest.approx(0.904837 + 0.935507 + 0.951229 + 0.980199, abs=1e-6)


def test_block_weights_of_one_x_and_two_y() -> None:
    half = -1.0 / 2
    expected = torch.tensor([[1.0, half, half], [half, 0.25, 0.25], [half, 0.25, 0.25]])
    assert torch.equal(mmd_block_weights(1, 2), expected)


def test_mmd_of_one_point_each_by_hand() -> None:
    # K_xx = K_yy = 4 (distance 0 for each bandwidth); ||(0,0) - (1,1)||^2 = 2: MMD = 4 + 4 - 2 k(2) = 0.456455
    x, y = torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 1.0]])
    assert float(mmd(x, y)) == pytest.approx(8 - 2 * kernel(2.0), rel=1e-6)
    assert float(mmd(x, y)) == pytest.approx(0.456455, abs=2e-6)


def test_mmd_of_two_points_each_includes_the_diagonal() -> None:
    # x = {0, 3}, y = {0, 4} on a line: distances^2 xx {0, 9}, yy {0, 16}, xy {0, 16, 9, 1}
    x, y = torch.tensor([[0.0], [3.0]]), torch.tensor([[0.0], [4.0]])
    kxx = (2 * kernel(0) + 2 * kernel(9)) / 4
    kyy = (2 * kernel(0) + 2 * kernel(16)) / 4
    kxy = (kernel(0) + kernel(16) + kernel(9) + kernel(1)) / 4
    assert float(mmd(x, y)) == pytest.approx(kxx + kyy - 2 * kxy, rel=1e-5)
    assert float(mmd(x, y, block_weights=mmd_block_weights(2, 2))) == float(mmd(x, y))


def test_mmd_of_equal_sets_is_zero_with_zero_gradient() -> None:
    x = torch.tensor([[1.0, 2.0], [0.5, -1.0]], requires_grad=True)
    value = mmd(x, x.detach().clone())
    value.backward()
    assert float(value.detach()) == pytest.approx(0.0, abs=1e-6)
    assert x.grad is not None and torch.allclose(x.grad, torch.zeros(2, 2), atol=1e-6)


def test_masks_are_a_two_channel_gumbel_softmax_and_sum_to_one() -> None:
    # channel p = outputs 0..K-1, channel g = K..2K-1; softmax of two = sigmoid of the difference
    policy_out = torch.tensor([[0.0, 1.0, 2.0, 0.0, 0.0, 2.0]])  # B = 1, K = 3
    assert torch.allclose(policy_masks(policy_out, torch.zeros(1, 3)), torch.sigmoid(torch.tensor([[0.0, 1.0, 0.0]])))
    assert float(policy_masks(torch.zeros(1, 2), torch.full((1, 1), math.log(3.0)))) == pytest.approx(0.75)
    gumbel = -torch.empty(4, 2, 3).exponential_(generator=torch.Generator().manual_seed(1)).log()
    logits = torch.randn(4, 6, generator=torch.Generator().manual_seed(2))
    soft = F.softmax(logits.view(4, 2, 3) + gumbel, dim=1)  # F.gumbel_softmax(tau=1, hard=False, dim=1) with this noise
    masks = policy_masks(logits, gumbel[:, 0] - gumbel[:, 1])
    assert torch.allclose(masks, soft[:, 0], atol=1e-6) and torch.allclose(1 - masks, soft[:, 1], atol=1e-6)
    features = torch.rand(4, 3)
    personal, global_ = split_features(features, masks)
    assert torch.allclose(personal + global_, features) and torch.allclose(personal, features * soft[:, 0], atol=1e-6)


def test_logistic_noise_is_the_difference_of_two_gumbels() -> None:
    # Logistic(0, 1): mean 0, variance pi^2 / 3, P(noise < log 3) = 3/4
    noise = logistic_noise((200_000,), torch.Generator().manual_seed(0), torch.device("cpu"))
    assert torch.isfinite(noise).all()
    assert float(noise.mean()) == pytest.approx(0.0, abs=0.02)
    assert float(noise.var()) == pytest.approx(math.pi**2 / 3, rel=0.02)
    assert float((noise < math.log(3.0)).float().mean()) == pytest.approx(0.75, abs=0.005)
    again = logistic_noise((200_000,), torch.Generator().manual_seed(0), torch.device("cpu"))
    assert torch.equal(noise, again)


def test_head_g_mixes_half_and_half() -> None:
    assert torch.equal(mixed_head(torch.tensor([2.0, 4.0]), torch.tensor([0.0, 8.0])), torch.tensor([1.0, 6.0]))


def test_context_is_the_column_sum_of_the_head_then_unit_length() -> None:
    assert torch.equal(context_from_head(torch.tensor([[1.0, 2.0], [3.0, 2.0]])), torch.tensor([4.0, 4.0]))
    assert torch.allclose(normalised_context(torch.tensor([3.0, 4.0])), torch.tensor([0.6, 0.8]))


def test_the_initial_context_is_pfllibs_first_draw_after_manual_seed_0() -> None:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        pfllib = torch.rand(1, 512)
    assert torch.equal(initial_context(512), pfllib[0]) and torch.equal(initial_context(512), initial_context(512))


def test_the_policy_network_has_527360_parameters_for_k_512() -> None:
    cpn = policy_network(512)
    assert count_parameters(cpn) == 512 * 1024 + 1024 + 2 * 1024 == 527_360
    assert (cpn(torch.randn(3, 512)) >= 0).all()  # ReLU last
