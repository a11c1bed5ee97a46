import torch

from fedloom.algorithms.fedproto.math import (
    average_prototypes,
    count_weighted_prototypes,
    nearest_prototype,
    prototype_regulariser,
)


def test_average_is_unweighted_per_class_mean_over_clients() -> None:
    labels = torch.tensor([0, 2, 0])
    protos = torch.tensor([[1.0, 1.0], [5.0, 5.0], [3.0, -1.0]])
    classes, means = average_prototypes(labels, protos, num_classes=3)
    assert classes.tolist() == [0, 2]
    assert means.tolist() == [[2.0, 0.0], [5.0, 5.0]]


def test_regulariser_sums_squared_error_of_classes_with_a_prototype_over_batch_times_dim() -> None:
    f = torch.tensor([[1.0, 2.0], [0.0, 0.0], [4.0, 4.0]])
    y = torch.tensor([0, 1, 1])
    table = torch.tensor([[0.0, 0.0], [9.0, 9.0]])
    mask = torch.tensor([True, False])
    # only sample 0 counts: (1 + 4) / (3 * 2)
    assert torch.isclose(prototype_regulariser(f, y, table, mask), torch.tensor(5.0 / 6.0))


def test_nearest_prototype_ignores_missing_classes() -> None:
    table = torch.tensor([[0.0, 0.0], [1.0, 1.0], [10.0, 10.0]])
    mask = torch.tensor([True, False, True])
    f = torch.tensor([[0.9, 0.9], [8.0, 8.0]])
    assert nearest_prototype(f, table, mask).tolist() == [0, 2]


def test_count_weighted_prototypes_are_the_sum_of_sums_over_the_sum_of_counts() -> None:
    labels = torch.tensor([0, 0, 2])
    protos = torch.tensor([[1.0, 0.0], [4.0, 2.0], [3.0, 3.0]])
    counts = torch.tensor([30.0, 10.0, 5.0])
    classes, means = count_weighted_prototypes(labels, protos, counts, num_classes=3)
    assert classes.tolist() == [0, 2]
    assert torch.allclose(means, torch.tensor([[(30 * 1 + 10 * 4) / 40, (10 * 2) / 40], [3.0, 3.0]]))
