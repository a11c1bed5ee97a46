"""Data sets for federated simulation: readers, seeded partitioners, per-client splits, statistics.

Entry point: `load_federated_dataset(DatasetSpec(name="fmnist", partition="dir:0.1", num_clients=20))`.
Everything is held in memory as torch tensors (see `fedloom.data.types`).
"""

from fedloom.data.dirichlet import PartitionResult
from fedloom.data.folder import load_image_folder
from fedloom.data.idx import load_fmnist, load_mnist, read_idx
from fedloom.data.loader import LOADERS, load_federated_dataset, partition_raw
from fedloom.data.partition import (
    check_enough_samples,
    clients_per_class,
    dirichlet_partition,
    dirichlet_partition_result,
    iid_partition,
    least_samples,
    pathological_partition,
)
from fedloom.data.pfl import load_pfl_folder, save_pfl_folder
from fedloom.data.raw import RawDataset, normalise_uint8
from fedloom.data.sources import load_cifar, make_synthetic
from fedloom.data.spec import (
    DatasetSpec,
    DirichletPartition,
    IidPartition,
    Partition,
    PathologicalPartition,
    parse_partition,
)
from fedloom.data.split import build_clients, split_sizes, train_test_split
from fedloom.data.stats import partition_statistics, write_partition_statistics
from fedloom.data.types import ClientData, FederatedDataset

__all__ = [
    "LOADERS",
    "ClientData",
    "DatasetSpec",
    "DirichletPartition",
    "FederatedDataset",
    "IidPartition",
    "Partition",
    "PartitionResult",
    "PathologicalPartition",
    "RawDataset",
    "build_clients",
    "check_enough_samples",
    "clients_per_class",
    "dirichlet_partition",
    "dirichlet_partition_result",
    "iid_partition",
    "least_samples",
    "load_cifar",
    "load_federated_dataset",
    "load_fmnist",
    "load_image_folder",
    "load_mnist",
    "load_pfl_folder",
    "make_synthetic",
    "normalise_uint8",
    "parse_partition",
    "partition_raw",
    "partition_statistics",
    "pathological_partition",
    "read_idx",
    "save_pfl_folder",
    "split_sizes",
    "train_test_split",
    "write_partition_statistics",
]
