from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from data_helpers import write_idx

from fedloom.data import DatasetSpec, load_federated_dataset, normalise_uint8, read_idx
from fedloom.data.idx import IDX_STEMS, load_idx_dataset
from fedloom.errors import DataError


@pytest.mark.parametrize("name", ["imgs-idx3-ubyte", "imgs-idx3-ubyte.gz"])
def test_read_idx_uint8_plain_and_gzip(tmp_path: Path, name: str) -> None:
    images = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = read_idx(write_idx(tmp_path / name, images))
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    assert np.array_equal(out, images)


def test_read_idx_big_endian_ints_and_floats(tmp_path: Path) -> None:
    ints = np.array([[1, -2], [70000, 3]])
    assert read_idx(write_idx(tmp_path / "i", ints, ">i4")).tolist() == [[1, -2], [70000, 3]]
    floats = np.array([0.5, -1.25])
    assert read_idx(write_idx(tmp_path / "f", floats, ">f4")).tolist() == [0.5, -1.25]


def test_read_idx_errors(tmp_path: Path) -> None:
    bad_magic = tmp_path / "bad"
    bad_magic.write_bytes(b"\x01\x00\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(bad_magic)
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02")
    with pytest.raises(DataError, match="need 5"):
        read_idx(short)
    with pytest.raises(DataError, match="cannot read IDX file"):
        read_idx(tmp_path / "missing.gz")
    not_gzip = tmp_path / "x.gz"
    not_gzip.write_bytes(b"not gzip")
    with pytest.raises(DataError, match="cannot read IDX file"):
        read_idx(not_gzip)


def test_normalise_matches_to_tensor_normalize_bit_for_bit() -> None:
    from PIL import Image
    from torchvision.transforms import Compose, Normalize, ToTensor

    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    reference = Compose([ToTensor(), Normalize((0.5,), (0.5,))])(Image.fromarray(pixels[0]))
    ours = normalise_uint8(pixels)
    assert ours.shape == (1, 1, 16, 16) and ours.dtype == torch.float32
    assert torch.equal(ours[0], reference)
    assert ours.min() == -1.0 and ours.max() == 1.0


def test_normalise_channels_last() -> None:
    rgb = np.zeros((2, 4, 5, 3), dtype=np.uint8)
    rgb[..., 2] = 255
    out = normalise_uint8(rgb, channels_last=True)
    assert out.shape == (2, 3, 4, 5)
    assert out[:, 2].eq(1.0).all() and out[:, :2].eq(-1.0).all()


def _tiny_mnist_folder(root: Path) -> Path:
    root.mkdir()
    write_idx(root / f"{IDX_STEMS[0]}.gz", np.full((3, 2, 2), 255, dtype=np.uint8))
    write_idx(root / f"{IDX_STEMS[1]}.gz", np.array([0, 1, 2], dtype=np.uint8))
    write_idx(root / IDX_STEMS[2], np.zeros((2, 2, 2), dtype=np.uint8))  # plain, not gzipped
    write_idx(root / IDX_STEMS[3], np.array([3, 1], dtype=np.uint8))
    return root


def test_idx_folder_merges_train_then_test(tmp_path: Path) -> None:
    raw = load_idx_dataset("tiny", _tiny_mnist_folder(tmp_path / "tiny"), "hint")
    assert raw.x.shape == (5, 1, 2, 2) and raw.num_classes == 4
    assert raw.y.tolist() == [0, 1, 2, 3, 1]
    assert raw.x[:3].eq(1.0).all() and raw.x[3:].eq(-1.0).all()


def test_mnist_loader_reads_data_dir(tmp_path: Path) -> None:
    spec = DatasetSpec(name="mnist", data_dir=_tiny_mnist_folder(tmp_path / "m"), num_clients=2, partition="iid")
    ds = load_federated_dataset(spec)
    assert ds.name == "mnist" and sum(c.num_train + c.num_test for c in ds.clients) == 5


def test_missing_fmnist_names_path_and_debian_package(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dataset-fashion-mnist") as info:
        load_federated_dataset(DatasetSpec(name="fmnist", data_dir=tmp_path / "nope"))
    assert str(tmp_path / "nope" / IDX_STEMS[0]) in str(info.value)


def test_fmnist_real_files_load_and_partition(needs_fmnist: Path) -> None:
    ds = load_federated_dataset(DatasetSpec(name="fmnist", num_clients=20, partition="dir:0.1"))
    assert (ds.num_classes, ds.input_shape, len(ds.clients)) == (10, (1, 28, 28), 20)
    assert ds.statistics["totals"]["labels"] == [7000] * 10  # type: ignore[index]
    assert min(c.num_train + c.num_test for c in ds.clients) >= 40
    first = ds.clients[0].train_x
    assert first.dtype == torch.float32 and first.min() >= -1.0 and first.max() <= 1.0
