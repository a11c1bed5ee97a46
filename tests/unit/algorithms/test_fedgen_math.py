import math

import torch

from fedloom.algorithms.fedgen.math import (
    FeatureGenerator,
    ensemble_logits,
    generator_loss,
    sample_labels,
    sample_noise,
)


def test_ensemble_is_the_weighted_sum_of_the_heads_logits() -> None:
    features = torch.tensor([[1.0, 2.0]])
    head_a = (torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0.0, 1.0]))  # -> [1, 3]
    head_b = (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), torch.tensor([1.0, 0.0]))  # -> [3, 1]
    logits = ensemble_logits(features, [head_a, head_b], torch.tensor([0.75, 0.25]))
    assert logits.tolist() == [[1.5, 2.5]]
    loss = generator_loss(features, torch.tensor([1]), [head_a, head_b], torch.tensor([0.75, 0.25]))
    assert math.isclose(float(loss), math.log(1 + math.exp(-1.0)), rel_tol=1e-6)


def test_labels_follow_the_train_counts_and_absent_classes_never_appear() -> None:
    labels = sample_labels(torch.tensor([3, 0, 1]), 4000, torch.Generator().manual_seed(0))
    share = torch.bincount(labels, minlength=3).double() / 4000
    assert share[1] == 0
    assert abs(float(share[0]) - 0.75) < 0.03


def test_noise_is_seeded_standard_gaussian() -> None:
    a = sample_noise(2000, 8, torch.Generator().manual_seed(1))
    assert torch.equal(a, sample_noise(2000, 8, torch.Generator().manual_seed(1)))
    assert abs(float(a.mean())) < 0.05 and abs(float(a.std()) - 1) < 0.05
    assert float(a.min()) < -2  # not uniform noise on [0, 1) as in HtFLlib


def test_generator_maps_noise_and_label_to_a_feature_and_has_the_reference_size() -> None:
    generator = FeatureGenerator(noise_dim=32, num_classes=10, hidden_dim=512, feature_dim=512)
    assert sum(p.numel() for p in generator.parameters()) == 285_696  # algorithms.md 4.4
    out = generator(torch.zeros(3, 32), torch.tensor([0, 1, 9]))
    assert out.shape == (3, 512)
