"""What data set to load and how to split it: `DatasetSpec` and the typed partition rules.

A partition is written as text in configs and on the command line (`iid`, `pat:K`, `dir:BETA`) and
parsed once into one of three frozen dataclasses; each knows how to assign sample indices to clients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from fedloom.data.partition import (
    PartitionResult,
    dirichlet_partition_result,
    iid_partition,
    pathological_partition,
)
from fedloom.errors import ConfigError

_PARTITION_HELP = "use 'iid', 'pat:K' (K classes per client, e.g. pat:2) or 'dir:BETA' (e.g. dir:0.1)"


@dataclass(frozen=True)
class IidPartition:
    """Uniformly random, balanced split."""

    def assign(
        self, labels: npt.NDArray[np.int64], num_clients: int, num_classes: int, least: int, seed: int
    ) -> PartitionResult:
        return PartitionResult(iid_partition(labels, num_clients, seed), {"partition": "iid"})


@dataclass(frozen=True)
class PathologicalPartition:
    """Each client holds `classes_per_client` classes (PFLlib "pat")."""

    classes_per_client: int

    def assign(
        self, labels: npt.NDArray[np.int64], num_clients: int, num_classes: int, least: int, seed: int
    ) -> PartitionResult:
        k = self.classes_per_client
        idx = pathological_partition(labels, num_clients, num_classes, k, least, seed)
        return PartitionResult(idx, {"partition": f"pat:{k}", "classes_per_client": k})


@dataclass(frozen=True)
class DirichletPartition:
    """Practical label skew: per class proportions ~ Dir(beta) (PFLlib "dir")."""

    beta: float

    def assign(
        self, labels: npt.NDArray[np.int64], num_clients: int, num_classes: int, least: int, seed: int
    ) -> PartitionResult:
        return dirichlet_partition_result(labels, num_clients, self.beta, least, seed)


Partition = IidPartition | PathologicalPartition | DirichletPartition


def _parse_number(kind: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"partition '{kind}:{value}': '{value}' is not a number; {_PARTITION_HELP}") from None
    if not math.isfinite(number):
        raise ConfigError(f"partition '{kind}:{value}': the value must be finite; {_PARTITION_HELP}")
    return number


def _parse_pat(value: str) -> Partition:
    number = _parse_number("pat", value)
    if number != int(number) or number < 1:
        raise ConfigError(f"partition 'pat:{value}': K (classes per client) must be a whole number >= 1, e.g. pat:2")
    return PathologicalPartition(int(number))


def _parse_dir(value: str) -> Partition:
    beta = _parse_number("dir", value)
    if beta <= 0:
        raise ConfigError(
            f"partition 'dir:{value}': the Dirichlet concentration beta must be > 0 (small = more skew), e.g. dir:0.1"
        )
    return DirichletPartition(beta)


def parse_partition(text: str) -> Partition:
    """Parse 'iid', 'pat:K' or 'dir:BETA' (case-insensitive); raise ConfigError saying what is accepted."""
    cleaned = text.strip().lower()
    if cleaned == "iid":
        return IidPartition()
    kind, sep, value = cleaned.partition(":")
    parsers = {"pat": _parse_pat, "dir": _parse_dir}
    if not sep or kind not in parsers or not value:
        raise ConfigError(f"unknown partition '{text}'; {_PARTITION_HELP}")
    return parsers[kind](value)


class DatasetSpec(BaseModel):
    """A data set and its federated split, as written in configs.

    `name`: "synthetic", "fmnist", "mnist", "cifar10", "cifar100", "folder:DIR" (one sub-folder per
    class) or "pfl:DIR" (a PFLlib/HtFLlib partition folder, taken as-is: `partition`, `train_ratio`
    and `seed` do not apply to it). `data_dir` overrides the default directory of the named data sets.
    `batch_size` and `train_ratio` also set the least number of samples per client (PFLlib rule).
    `num_classes`, `samples` and `image_shape` shape the synthetic data set only; `image_size` is the
    square side images of a folder are resized to (default: the first image's size); `download`
    lets torchvision fetch CIFAR into `data_dir`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    partition: str = "dir:0.1"
    num_clients: int = Field(default=20, ge=1)
    seed: int = Field(default=1, ge=0)
    data_dir: Path | None = None
    train_ratio: float = Field(default=0.75, gt=0.0, lt=1.0)
    batch_size: int = Field(default=10, ge=1)
    num_classes: int = Field(default=10, ge=2)
    samples: int = Field(default=2000, ge=1)
    image_shape: tuple[int, int, int] = (1, 28, 28)
    image_size: int | None = Field(default=None, ge=1)
    download: bool = True

    @field_validator("partition")
    @classmethod
    def _check_partition(cls, value: str) -> str:
        parse_partition(value)
        return value

    @field_validator("image_shape")
    @classmethod
    def _check_shape(cls, value: tuple[int, int, int]) -> tuple[int, int, int]:
        if min(value) < 1:
            raise ValueError(f"image_shape must be three positive ints (C, H, W), got {value}")
        return value

    @property
    def partition_rule(self) -> Partition:
        """The parsed `partition` text."""
        return parse_partition(self.partition)
