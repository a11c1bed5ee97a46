from __future__ import annotations

import pydantic
import pytest

from fedloom.data import (
    DatasetSpec,
    DirichletPartition,
    IidPartition,
    PathologicalPartition,
    parse_partition,
)
from fedloom.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("iid", IidPartition()),
        (" IID ", IidPartition()),
        ("pat:2", PathologicalPartition(2)),
        ("pat:10", PathologicalPartition(10)),
        ("dir:0.1", DirichletPartition(0.1)),
        ("DIR:1e-2", DirichletPartition(0.01)),
        ("dir:5", DirichletPartition(5.0)),
    ],
)
def test_parse_partition_accepts(text: str, expected: object) -> None:
    assert parse_partition(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("dir:-1", "beta must be > 0"),
        ("dir:0", "beta must be > 0"),
        ("dir:inf", "finite"),
        ("dir:abc", "not a number"),
        ("pat:0", "whole number >= 1"),
        ("pat:1.5", "whole number >= 1"),
        ("foo", "unknown partition 'foo'"),
        ("dir:", "unknown partition"),
        ("", "unknown partition"),
    ],
)
def test_parse_partition_rejects_with_help(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as info:
        parse_partition(text)
    assert "dir:" in str(info.value) or "pat:" in str(info.value)


def test_spec_defaults_and_frozen() -> None:
    spec = DatasetSpec(name="synthetic")
    assert (spec.partition, spec.num_clients, spec.seed, spec.train_ratio, spec.batch_size) == (
        "dir:0.1",
        20,
        1,
        0.75,
        10,
    )
    assert (spec.num_classes, spec.samples, spec.image_shape) == (10, 2000, (1, 28, 28))
    assert spec.data_dir is None and spec.image_size is None and spec.download
    assert spec.partition_rule == DirichletPartition(0.1)
    with pytest.raises(pydantic.ValidationError):
        spec.seed = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"partition": "dir:-1"},
        {"num_clients": 0},
        {"seed": -1},
        {"train_ratio": 1.0},
        {"batch_size": 0},
        {"image_shape": (1, 0, 28)},
        {"unknown_option": 1},
    ],
)
def test_spec_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        DatasetSpec(name="synthetic", **kwargs)  # type: ignore[arg-type]


def test_spec_partition_error_keeps_our_message() -> None:
    with pytest.raises(pydantic.ValidationError, match="beta must be > 0"):
        DatasetSpec(name="synthetic", partition="dir:-1")
