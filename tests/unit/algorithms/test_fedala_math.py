import torch

from fedloom.algorithms.fedala.math import (
    ala_slice,
    mixed,
    start_phase_converged,
    unchanged_since_last_round,
    updated_weights,
)


def test_mixing_by_hand() -> None:
    # l + (g - l) W: [1, 1] + ([3, -1] - [1, 1]) [0.5, 1] = [2, -1]; W = 0 keeps l, W = 1 takes g
    local, global_ = [torch.tensor([1.0, 1.0])], [torch.tensor([3.0, -1.0])]
    assert torch.equal(mixed(local, global_, [torch.tensor([0.5, 1.0])])[0], torch.tensor([2.0, -1.0]))
    assert torch.equal(mixed(local, global_, [torch.zeros(2)])[0], local[0])
    assert torch.equal(mixed(local, global_, [torch.ones(2)])[0], global_[0])


def test_weight_step_by_hand_and_clamped_to_the_unit_interval() -> None:
    # W - eta * d * (g - l): 0.5 - 0.1 * 2 * (3 - 1) = 0.1; 0.5 - 0.1 * (-10) * 2 = 2.5 -> 1; 0.5 - 0.1 * 10 * 2 -> 0
    w = [torch.tensor([0.5, 0.5, 0.5])]
    d = [torch.tensor([2.0, -10.0, 10.0])]
    out = updated_weights(w, d, [torch.ones(3)], [torch.full((3,), 3.0)], eta=0.1)
    assert torch.allclose(out[0], torch.tensor([0.1, 1.0, 0.0]))
    assert torch.equal(w[0], torch.tensor([0.5, 0.5, 0.5]))  # inputs untouched


def test_skip_test_is_a_signed_sum() -> None:
    g = torch.tensor([[1.0, 2.0]])
    assert unchanged_since_last_round(g, g.clone())
    assert unchanged_since_last_round(g, torch.tensor([[2.0, 1.0]]))  # differences +1 and -1 cancel (PFLlib's)
    assert not unchanged_since_last_round(g, torch.tensor([[1.0, 1.0]]))


def test_convergence_needs_more_than_window_losses_and_a_small_population_std() -> None:
    assert not start_phase_converged([1.0] * 10, window=10, threshold=0.1)  # 10 is not > 10
    assert start_phase_converged([5.0] + [1.0] * 10, window=10, threshold=0.1)
    # population std of [0, 0.2] * 5 is exactly 0.1 (sample std would be larger): not below the threshold
    assert not start_phase_converged([9.0] + [0.0, 0.2] * 5, window=10, threshold=0.1)
    assert start_phase_converged([9.0] + [0.0, 0.18] * 5, window=10, threshold=0.1)


def test_slice_is_eighty_percent_and_fits_inside_the_split() -> None:
    gen = torch.Generator().manual_seed(0)
    starts = set()
    for _ in range(300):
        start, length = ala_slice(11, 80, gen)
        assert length == 8 and 0 <= start <= 3
        starts.add(start)
    assert starts == {0, 1, 2, 3}  # both ends reachable
    assert ala_slice(1, 80, gen)[1] == 0  # one sample: nothing to learn from
