"""GPFL's pure functions (pfl_algorithms.md 10), each against numbers worked out by hand."""

import math

import pytest
import torch

from fedloom.algorithms.gpfl.math import (
    alignment_loss,
    angle_loss,
    contexts,
    decayed_gradients,
    gpfl_loss,
    label_shares,
    valve,
)


def test_the_valve_scales_by_gamma_plus_one_shifts_by_beta_and_clips_at_zero() -> None:
    # [1, 2] * ([0.5, -3] + 1) + [1, -1] = [1.5 + 1, -4 - 1] = [2.5, -5] -> ReLU [2.5, 0]
    features = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    out = valve(features, torch.tensor([0.5, -3.0]), torch.tensor([1.0, -1.0]))
    assert torch.equal(out, torch.tensor([[2.5, 0.0], [1.0, 0.0]]))  # one context for every row of the batch


def test_a_zero_context_branch_output_passes_non_negative_features_through() -> None:
    features = torch.tensor([[0.0, 3.0, 7.5]])
    assert torch.equal(valve(features, torch.zeros(3), torch.zeros(3)), features)


def test_the_angle_loss_is_cross_entropy_over_cosines_without_scale() -> None:
    # f = [3, 4] -> [0.6, 0.8]; rows [1, 0] and [0, 2] -> [1, 0] and [0, 1]: cosines [0.6, 0.8]
    f, embeddings = torch.tensor([[3.0, 4.0]]), torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    to_1 = angle_loss(f, embeddings, torch.tensor([1]))
    to_0 = angle_loss(f, embeddings, torch.tensor([0]))
    assert to_1.item() == pytest.approx(math.log(1 + math.exp(-0.2)))  # -log(e^.8 / (e^.6 + e^.8))
    assert to_0.item() == pytest.approx(math.log(1 + math.exp(0.2)))
    both = angle_loss(f.repeat(2, 1), embeddings, torch.tensor([1, 0]))
    assert both.item() == pytest.approx((to_1.item() + to_0.item()) / 2)  # the batch mean


def test_the_angle_loss_trains_the_embeddings() -> None:
    embeddings = torch.tensor([[1.0, 0.0], [0.0, 2.0]], requires_grad=True)
    angle_loss(torch.tensor([[3.0, 4.0]]), embeddings, torch.tensor([1])).backward()
    assert embeddings.grad is not None and embeddings.grad.abs().sum() > 0


def test_the_alignment_is_the_frobenius_norm_of_the_whole_batch_not_squared_nor_averaged() -> None:
    # f_G - E[y] = [[1, 2] - [1, 0], [3, 4] - [0, 0]] = [[0, 2], [3, 4]]: sqrt(0 + 4 + 9 + 16) = sqrt(29)
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = torch.tensor([[1.0, 0.0], [0.0, 0.0]], requires_grad=True)
    labels = torch.tensor([0, 1])
    loss = alignment_loss(f, frozen, labels)
    assert loss.item() == pytest.approx(math.sqrt(29))
    assert alignment_loss(f.repeat(4, 1), frozen, labels.repeat(4)).item() == pytest.approx(2 * math.sqrt(29))
    assert not loss.requires_grad  # E = GCE_frozen: no gradient reaches it


def test_the_loss_adds_cross_entropy_angle_and_lambda_times_alignment() -> None:
    logits = torch.tensor([[2.0, 0.0]])
    f, embeddings = torch.tensor([[3.0, 4.0]]), torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    frozen, y = torch.tensor([[3.0, 0.0], [0.0, 0.0]]), torch.tensor([0])
    ce = math.log(1 + math.exp(-2.0))
    angle = math.log(1 + math.exp(0.2))
    # f - E[0] = [0, 4]: norm 4, times lambda 0.5
    assert gpfl_loss(logits, f, embeddings, frozen, y, 0.5).item() == pytest.approx(ce + angle + 2.0)
    assert gpfl_loss(logits, f, embeddings, frozen, y, 0.0).item() == pytest.approx(ce + angle)


def test_label_shares_count_the_full_training_split() -> None:
    assert torch.equal(label_shares(torch.tensor([0, 0, 2, 1]), 4), torch.tensor([0.5, 0.25, 0.25, 0.0]))
    assert torch.equal(label_shares(torch.tensor([], dtype=torch.int64), 2), torch.zeros(2))


def test_contexts_are_the_label_weighted_sum_and_the_mean_of_the_rows() -> None:
    embeddings = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    personal, global_ = contexts(embeddings, torch.tensor([0.5, 0.5, 0.0]))
    assert torch.equal(personal, torch.tensor([2.0, 3.0]))  # 0.5 [1, 2] + 0.5 [3, 4]
    assert torch.equal(global_, torch.tensor([3.0, 4.0]))  # ([1, 2] + [3, 4] + [5, 6]) / 3
    assert not personal.requires_grad and not global_.requires_grad


def test_decayed_gradients_add_mu_times_the_parameter() -> None:
    grads, params = [torch.tensor([1.0, 2.0])], [torch.tensor([10.0, -10.0])]
    assert torch.equal(decayed_gradients(grads, params, 0.1)[0], torch.tensor([2.0, 1.0]))
    assert decayed_gradients(grads, params, 0.0)[0] is grads[0]
    assert torch.equal(params[0], torch.tensor([10.0, -10.0]))  # inputs untouched
    with pytest.raises(ValueError):
        decayed_gradients(grads, [], 0.1)
