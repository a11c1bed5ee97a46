"""The Gaussian mechanism on per-class sums: clipping bounds every sample's contribution, and the noise has
the scale the accountant was told about."""

import math

import pytest
import torch

from fedloom.privacy.mechanism import (
    clip_rows,
    count_threshold,
    noisy_class_sums,
    private_class_means,
    sensitivity,
)


def test_clipped_rows_never_exceed_the_bound_and_short_rows_stay_as_they_are() -> None:
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):  # property over random sizes, scales and bounds
        n, d = int(torch.randint(1, 50, (1,), generator=gen)), int(torch.randint(1, 64, (1,), generator=gen))
        scale = float(10 ** torch.empty(1).uniform_(-4, 6, generator=gen))
        clip = float(10 ** torch.empty(1).uniform_(-2, 2, generator=gen))
        rows = torch.randn(n, d, generator=gen) * scale
        clipped = clip_rows(rows, clip)
        norms = torch.linalg.vector_norm(clipped, dim=1)
        assert bool((norms <= clip * (1 + 1e-5)).all())
        short = torch.linalg.vector_norm(rows, dim=1) <= clip
        assert torch.allclose(clipped[short], rows[short])
        assert torch.allclose(
            torch.nn.functional.normalize(clipped[~short], dim=1),
            torch.nn.functional.normalize(rows[~short], dim=1),
            atol=1e-5,
        )
    assert torch.equal(clip_rows(torch.zeros(2, 3), 1.0), torch.zeros(2, 3))  # no division by zero


def test_one_sample_moves_the_released_vector_by_at_most_the_sensitivity() -> None:
    gen = torch.Generator().manual_seed(1)
    clip, classes = 2.5, 4
    for _ in range(100):
        rows, labels = torch.randn(30, 8, generator=gen) * 10, torch.randint(0, classes, (30,), generator=gen)
        with_all = noisy_class_sums(rows, labels, classes, clip, 1e-12, gen)
        without_one = noisy_class_sums(rows[1:], labels[1:], classes, clip, 1e-12, gen)
        # the released vector is (sums, clip * counts): its change is bounded by sqrt(2) * clip
        delta = torch.cat([(with_all[0] - without_one[0]).flatten(), clip * (with_all[1] - without_one[1])])
        assert float(torch.linalg.vector_norm(delta)) <= sensitivity(clip) * (1 + 1e-4)


def test_noise_scale_is_noise_multiplier_times_sensitivity() -> None:
    classes, dim, clip, z = 10, 2000, 3.0, 1.7
    rows, labels = torch.zeros(20, dim), torch.arange(20) % classes
    sums, counts = noisy_class_sums(rows, labels, classes, clip, z, torch.Generator().manual_seed(7))
    expected = z * math.sqrt(2) * clip
    assert float(sums.std()) == pytest.approx(expected, rel=0.02)  # 20,000 draws: 2% is > 4 standard errors
    assert float(sums.mean()) == pytest.approx(0.0, abs=0.05 * expected)
    many = torch.stack(
        [noisy_class_sums(rows, labels, classes, clip, z, torch.Generator().manual_seed(s))[1] for s in range(400)]
    )
    assert float((many - 2).std()) == pytest.approx(z * math.sqrt(2), rel=0.05)  # counts: 2 per class + noise


def test_released_classes_clear_the_count_threshold() -> None:
    z = 1.0
    rows = torch.ones(300, 4)
    labels = torch.cat([torch.zeros(299, dtype=torch.int64), torch.ones(1, dtype=torch.int64)])
    released, means, counts, total = private_class_means(rows, labels, 5, 1.0, z, torch.Generator().manual_seed(0))
    assert released.tolist() == [0]  # one sample of class 1 is under 3 * sqrt(2) noisy counts; classes 2-4 absent
    assert count_threshold(z) == pytest.approx(3 * math.sqrt(2))
    assert torch.allclose(means[0], torch.full((4,), 0.5), atol=0.05)  # rows clipped to norm 1: 0.5 each
    assert total == pytest.approx(300, abs=15) and float(counts[0]) == pytest.approx(299, abs=5)
