"""CIFAR-10/100 through torchvision, and a seeded synthetic data set that models can learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from fedloom.data.raw import RawDataset, labels_tensor, normalise_uint8
from fedloom.errors import DataError

CACHE_DIR = Path.home() / ".cache" / "fedloom" / "datasets"
_CIFAR_NUM_CLASSES = {"cifar10": 10, "cifar100": 100}


def _cifar_hint(name: str, root: Path, download: bool) -> str:
    archive = f"cifar-{name[5:]}-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html)"
    if download:
        return f"check the internet connection, or put {archive} in {root}; it is extracted on the next run"
    return f"set download=True (it downloads, or extracts {archive} if you put it in {root}), or extract it there"


def _cifar_split(
    name: str, root: Path, train: bool, download: bool
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    from torchvision import datasets  # imported here: torchvision is slow to import and only CIFAR needs it

    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    try:
        ds = cls(root=str(root), train=train, download=download)
    except (RuntimeError, OSError, ValueError) as exc:
        raise DataError(f"cannot load {name} from {root} ({exc}). Fix: {_cifar_hint(name, root, download)}") from exc
    return np.asarray(ds.data, dtype=np.uint8), np.asarray(ds.targets, dtype=np.int64)


def load_cifar(name: str, data_dir: Path | None, download: bool) -> RawDataset:
    """CIFAR train then test (merged, like PFLlib), float32 [N, 3, 32, 32] in [-1, 1]."""
    root = data_dir or CACHE_DIR / name
    train_x, train_y = _cifar_split(name, root, True, download)
    test_x, test_y = _cifar_split(name, root, False, download)
    x = normalise_uint8(np.concatenate([train_x, test_x]), channels_last=True)
    y = labels_tensor(np.concatenate([train_y, test_y]))
    return RawDataset(name, x, y, _CIFAR_NUM_CLASSES[name])


def _class_means(num_classes: int, shape: tuple[int, int, int], rng: np.random.Generator) -> torch.Tensor:
    """One smooth random pattern per class: 4x4 uniform noise in [-0.8, 0.8], upsampled bilinearly."""
    c, h, w = shape
    coarse = rng.uniform(-0.8, 0.8, size=(num_classes, c, 4, 4)).astype(np.float32)
    return F.interpolate(torch.from_numpy(coarse), size=(h, w), mode="bilinear", align_corners=True)


def make_synthetic(
    num_classes: int, samples: int, shape: tuple[int, int, int], seed: int, noise: float = 0.3
) -> RawDataset:
    """Seeded synthetic images: x = clamp(mean[y] + noise * N(0, 1), -1, 1), balanced shuffled labels.

    Class means are smooth and far apart, so even a linear model separates the classes well.
    """
    if num_classes < 2 or samples < 1 or min(shape) < 1:
        raise DataError(
            f"synthetic data needs >= 2 classes, >= 1 sample and a positive shape, got "
            f"{num_classes}, {samples}, {shape}"
        )
    rng = np.random.default_rng([seed, 7])
    means = _class_means(num_classes, shape, rng)
    y = rng.permutation(np.arange(samples, dtype=np.int64) % num_classes)
    eps = torch.from_numpy(rng.standard_normal(size=(samples, *shape), dtype=np.float32))
    x = (means[torch.from_numpy(y)] + noise * eps).clamp_(-1.0, 1.0)
    return RawDataset("synthetic", x.contiguous(), torch.from_numpy(y), num_classes)
