from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fedloom.data import DatasetSpec, load_cifar, load_federated_dataset, load_image_folder, make_synthetic
from fedloom.errors import DataError


def test_synthetic_is_seeded_shaped_and_balanced() -> None:
    a = make_synthetic(10, 2000, (1, 28, 28), seed=4)
    b = make_synthetic(10, 2000, (1, 28, 28), seed=4)
    c = make_synthetic(10, 2000, (1, 28, 28), seed=5)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, c.x)
    assert a.x.shape == (2000, 1, 28, 28) and a.x.dtype == torch.float32 and a.y.dtype == torch.int64
    assert a.x.min() >= -1.0 and a.x.max() <= 1.0
    assert torch.bincount(a.y).tolist() == [200] * 10


def test_synthetic_is_learnable_by_nearest_class_mean() -> None:
    raw = make_synthetic(10, 1000, (3, 16, 16), seed=0)
    x = raw.x.flatten(1)
    train, test = slice(0, 800), slice(800, 1000)
    means = torch.stack([x[train][raw.y[train] == k].mean(0) for k in range(10)])
    predicted = torch.cdist(x[test], means).argmin(1)
    assert (predicted == raw.y[test]).float().mean() > 0.9


def _png(path: Path, colour: tuple[int, ...] | int, size: tuple[int, int], mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path)


def test_image_folder_rgb_resized_to_first_image(tmp_path: Path) -> None:
    _png(tmp_path / "cat" / "a.png", (255, 0, 0), (6, 4), "RGB")
    _png(tmp_path / "cat" / "b.png", 128, (3, 3), "L")
    _png(tmp_path / "dog" / "c.jpg", (0, 0, 255), (12, 8), "RGB")
    (tmp_path / "dog" / "notes.txt").write_text("ignored")
    raw = load_image_folder(tmp_path)
    assert raw.x.shape == (3, 3, 4, 6) and raw.num_classes == 2 and raw.y.tolist() == [0, 0, 1]
    assert raw.x[0, 0].eq(1.0).all() and raw.x[0, 1].eq(-1.0).all()  # pure red
    assert raw.x[2, 2].gt(0.9).all()  # blue after JPEG


def test_image_folder_grey_and_given_size(tmp_path: Path) -> None:
    for label in ("0", "1", "2"):
        for i in range(3):
            _png(tmp_path / label / f"{i}.png", 40 * int(label), (5 + i, 7), "L")
    spec = DatasetSpec(name=f"folder:{tmp_path}", image_size=8, num_clients=3, partition="pat:1")
    ds = load_federated_dataset(spec)
    assert ds.input_shape == (1, 8, 8) and ds.num_classes == 3
    for c in ds.clients:
        assert len(torch.cat([c.train_y, c.test_y]).unique()) == 1


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(DataError, match="no class sub-folders"):
        load_image_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        load_image_folder(tmp_path)
    (tmp_path / "empty" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="cannot read image .*broken.png"):
        load_image_folder(tmp_path)


def test_cifar_without_files_gives_a_hint(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cifar-10-python.tar.gz") as info:
        load_cifar("cifar10", tmp_path, download=False)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(DataError, match="cifar-100-python.tar.gz"):
        load_federated_dataset(DatasetSpec(name="cifar100", data_dir=tmp_path, download=False))


def test_synthetic_helper_rejects_bad_sizes() -> None:
    with pytest.raises(DataError, match="synthetic data needs"):
        make_synthetic(1, 10, (1, 4, 4), seed=0)
    assert np.isfinite(make_synthetic(2, 1, (1, 1, 1), seed=0).x.numpy()).all()
