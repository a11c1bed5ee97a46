"""`load_federated_dataset`: name -> loader dispatch, partition, per-client split, statistics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fedloom.data.folder import load_image_folder
from fedloom.data.idx import load_fmnist, load_mnist
from fedloom.data.partition import check_enough_samples, least_samples
from fedloom.data.pfl import load_pfl_folder
from fedloom.data.raw import RawDataset
from fedloom.data.sources import load_cifar, make_synthetic
from fedloom.data.spec import DatasetSpec
from fedloom.data.split import build_clients
from fedloom.data.stats import compute_statistics
from fedloom.data.types import FederatedDataset
from fedloom.errors import ConfigError

RawLoader = Callable[[DatasetSpec, str], RawDataset]
Loader = Callable[[DatasetSpec, str], FederatedDataset]


def partition_raw(raw: RawDataset, spec: DatasetSpec) -> FederatedDataset:
    """Partition a whole data set among `spec.num_clients` clients and split each 75/25 (seeded)."""
    labels = raw.y.numpy()
    check_enough_samples(len(labels), spec.num_clients)
    least = least_samples(len(labels), spec.num_clients, spec.batch_size, spec.train_ratio)
    result = spec.partition_rule.assign(labels, spec.num_clients, raw.num_classes, least, spec.seed)
    clients = build_clients(raw, result.indices, spec.train_ratio, spec.seed)
    stats = compute_statistics(raw.name, raw.num_classes, raw.input_shape, clients)
    stats["partition"] = {
        **result.info,
        "seed": spec.seed,
        "train_ratio": spec.train_ratio,
        "batch_size": spec.batch_size,
        "least_samples": result.info.get("least_samples", least),
    }
    return FederatedDataset(raw.name, raw.num_classes, raw.input_shape, clients, stats)


def _partitioned(load_raw: RawLoader) -> Loader:
    return lambda spec, arg: partition_raw(load_raw(spec, arg), spec)


def _needs_dir(kind: str, arg: str) -> Path:
    if not arg:
        raise ConfigError(f"dataset '{kind}' needs a directory: write '{kind}:/path/to/dir'")
    return Path(arg).expanduser()


def _load_pfl(spec: DatasetSpec, arg: str) -> FederatedDataset:
    ds = load_pfl_folder(_needs_dir("pfl", arg))
    if "num_clients" in spec.model_fields_set and spec.num_clients != len(ds.clients):
        raise ConfigError(
            f"pfl:{arg} holds {len(ds.clients)} clients but num_clients={spec.num_clients}; "
            f"leave num_clients unset or set it to {len(ds.clients)}"
        )
    return ds


def _synthetic(spec: DatasetSpec, arg: str) -> RawDataset:
    return make_synthetic(spec.num_classes, spec.samples, spec.image_shape, spec.seed)


LOADERS: dict[str, Loader] = {
    "synthetic": _partitioned(_synthetic),
    "fmnist": _partitioned(lambda spec, arg: load_fmnist(spec.data_dir)),
    "mnist": _partitioned(lambda spec, arg: load_mnist(spec.data_dir)),
    "cifar10": _partitioned(lambda spec, arg: load_cifar("cifar10", spec.data_dir, spec.download)),
    "cifar100": _partitioned(lambda spec, arg: load_cifar("cifar100", spec.data_dir, spec.download)),
    "folder": _partitioned(lambda spec, arg: load_image_folder(_needs_dir("folder", arg), spec.image_size)),
    "pfl": _load_pfl,
}
_SHOWN_NAMES = "synthetic, fmnist, mnist, cifar10, cifar100, folder:DIR, pfl:DIR"


def load_federated_dataset(spec: DatasetSpec) -> FederatedDataset:
    """Load `spec.name`, partition it (except pfl:DIR, taken as stored) and split every client."""
    kind, _, arg = spec.name.partition(":")
    key = kind.strip().lower()
    loader = LOADERS.get(key)
    if loader is None or (arg and key not in ("folder", "pfl")):
        raise ConfigError(f"unknown dataset '{spec.name}'; known: {_SHOWN_NAMES}")
    return loader(spec, arg.strip())
