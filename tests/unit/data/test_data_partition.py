from __future__ import annotations

import time

import numpy as np
import pytest

from fedloom.data import (
    clients_per_class,
    dirichlet_partition,
    dirichlet_partition_result,
    iid_partition,
    least_samples,
    pathological_partition,
)
from fedloom.data.dirichlet import _move, _proportions
from fedloom.errors import ConfigError, DataError


def _assert_exact_cover(parts: list[np.ndarray], n: int) -> None:
    """Every sample index 0..n-1 appears in exactly one client."""
    merged = np.concatenate(parts)
    assert merged.dtype == np.int64
    assert np.array_equal(np.sort(merged), np.arange(n))


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_least_samples_matches_pfllib_rule() -> None:
    assert least_samples(70_000, 20, 10, 0.75) == 40  # min(10 / 0.25, 70000 / 20 / 2)
    assert least_samples(14_000, 200, 10, 0.75) == 35  # 14000 / 200 / 2
    assert least_samples(100, 20, 10, 0.75) == 2  # int(2.5)


def test_iid_sizes_cover_and_seed() -> None:
    labels = np.zeros(10, dtype=np.int64)
    parts = iid_partition(labels, 3, seed=0)
    assert [len(p) for p in parts] == [4, 3, 3]
    _assert_exact_cover(parts, 10)
    assert _same(parts, iid_partition(labels, 3, seed=0))
    assert not _same(parts, iid_partition(labels, 3, seed=1))


def test_clients_per_class_follows_pfllib_when_it_works() -> None:
    owners = clients_per_class(20, 10, 2)
    assert owners[0] == owners[1] == [0, 1, 2, 3]
    assert owners[2] == owners[3] == [4, 5, 6, 7]
    assert owners[9] == [16, 17, 18, 19]


def test_clients_per_class_falls_back_when_first_fit_fails() -> None:
    # First-fit would give clients 0 and 1 classes {0, 1} and client 2 only class 2.
    assert clients_per_class(3, 3, 2) == [[0, 1], [0, 2], [1, 2]]
    for n, c, k in [(3, 10, 4), (7, 10, 3), (5, 12, 7), (40, 24, 5)]:
        owners = clients_per_class(n, c, k)
        held = np.bincount([cl for o in owners for cl in o], minlength=n)
        assert all(owners) and (held == k).all() and all(len(set(o)) == len(o) for o in owners)


def test_pathological_hand_case() -> None:
    labels = np.repeat(np.arange(4), 10).astype(np.int64)  # 4 classes x 10 samples
    parts = pathological_partition(labels, 4, 4, 2, least=5, seed=3)
    _assert_exact_cover(parts, 40)
    classes = [sorted(set(labels[p].tolist())) for p in parts]
    assert classes == [[0, 1], [0, 1], [2, 3], [2, 3]]
    assert _same(parts, pathological_partition(labels, 4, 4, 2, least=5, seed=3))


def test_pathological_counts_are_unbalanced_and_k_classes_each() -> None:
    labels = np.repeat(np.arange(10), 100).astype(np.int64)
    parts = pathological_partition(labels, 20, 10, 2, least=25, seed=1)
    _assert_exact_cover(parts, 1000)
    assert all(len(np.unique(labels[p])) == 2 for p in parts)
    assert len({len(p) for p in parts}) > 1
    # class 0 goes to clients 0-3 (100 / 4 = 25 each on average): the first three draw
    # randint(max(25 / 10, 25 / 10), 25) = 2..24 samples, the last one takes the rest (>= 28)
    class0 = [int((labels[parts[c]] == 0).sum()) for c in range(4)]
    assert all(2 <= n <= 24 for n in class0[:3]) and class0[3] == 100 - sum(class0[:3]) >= 28


def test_pathological_bad_k() -> None:
    labels = np.repeat(np.arange(10), 5).astype(np.int64)
    with pytest.raises(ConfigError, match="only 10"):
        pathological_partition(labels, 4, 10, 11, least=1, seed=0)
    with pytest.raises(ConfigError, match="covers only 4 of 10 classes"):
        pathological_partition(labels, 2, 10, 2, least=1, seed=0)


def test_dirichlet_cover_seed_and_minimum() -> None:
    labels = np.repeat(np.arange(10), 100).astype(np.int64)
    least = least_samples(1000, 10, 10, 0.75)
    parts = dirichlet_partition(labels, 10, 0.5, least, seed=7)
    _assert_exact_cover(parts, 1000)
    assert min(len(p) for p in parts) >= least == 40
    assert _same(parts, dirichlet_partition(labels, 10, 0.5, least, seed=7))
    assert not _same(parts, dirichlet_partition(labels, 10, 0.5, least, seed=8))


def test_dirichlet_is_label_skewed() -> None:
    labels = np.repeat(np.arange(10), 500).astype(np.int64)
    parts = dirichlet_partition(labels, 10, 0.1, 40, seed=1)
    dominant = [np.bincount(labels[p], minlength=10).max() / len(p) for p in parts]
    assert np.mean(dominant) > 0.4  # IID would give about 0.1


def test_proportions_zero_full_clients() -> None:
    rng = np.random.default_rng(0)
    p = _proportions(np.array([10, 0, 3], dtype=np.int64), cap=5.0, beta=0.1, rng=rng)
    assert p[0] == 0.0 and p.sum() == pytest.approx(1.0)


def test_top_up_move_prefers_a_label_the_receiver_holds() -> None:
    labels = np.array([0, 0, 1, 1, 1], dtype=np.int64)
    owner = np.array([0, 0, 0, 1, 1], dtype=np.int64)
    assert _move(labels, owner, donor=0, receiver=1, wanted=1) == 1
    assert owner.tolist() == [0, 0, 1, 1, 1]


def test_dirichlet_200_clients_beta_01_terminates_with_a_valid_split() -> None:
    """HtFLlib#14: this case loops forever in PFLlib's partitioner. The 60 s bound only guards against a hang."""
    labels = np.random.default_rng(0).permutation(np.repeat(np.arange(10), 1400)).astype(np.int64)
    least = least_samples(len(labels), 200, 10, 0.75)
    start = time.perf_counter()
    result = dirichlet_partition_result(labels, 200, 0.1, least, seed=1)
    elapsed = time.perf_counter() - start
    assert elapsed < 60.0
    _assert_exact_cover(result.indices, 14_000)
    assert len(result.indices) == 200
    assert min(len(p) for p in result.indices) >= least == 35
    assert result.info["attempts"] == 100 and int(str(result.info["moved_samples"])) > 0
    again = dirichlet_partition_result(labels, 200, 0.1, least, seed=1)
    assert _same(result.indices, again.indices)


def test_dirichlet_easy_case_needs_no_top_up() -> None:
    labels = np.repeat(np.arange(4), 100).astype(np.int64)
    result = dirichlet_partition_result(labels, 4, 10.0, 10, seed=0)
    assert result.info["moved_samples"] == 0 and result.info["attempts"] == 1


@pytest.mark.parametrize(
    "split",
    [
        lambda y: iid_partition(y, 6, 0),
        lambda y: pathological_partition(y, 6, 5, 1, 1, 0),
        lambda y: dirichlet_partition(y, 6, 0.1, 1, 0),
    ],
)
def test_more_clients_than_samples(split: object) -> None:
    labels = np.arange(5, dtype=np.int64)
    with pytest.raises(DataError, match="5 samples among 6 clients"):
        split(labels)  # type: ignore[operator]


def test_dirichlet_rejects_impossible_minimum_and_bad_labels() -> None:
    labels = np.repeat(np.arange(2), 10).astype(np.int64)
    with pytest.raises(DataError, match="needs 30 samples but there are only 20"):
        dirichlet_partition(labels, 3, 0.1, 10, 0)
    with pytest.raises(DataError, match="beta must be > 0"):
        dirichlet_partition(labels, 3, 0.0, 1, 0)
    with pytest.raises(DataError, match=">= 0"):
        dirichlet_partition(np.array([0, -1, 1]), 2, 0.1, 1, 0)
    with pytest.raises(DataError, match="1-D integer"):
        iid_partition(np.zeros(4, dtype=np.float32), 2, 0)  # type: ignore[arg-type]
