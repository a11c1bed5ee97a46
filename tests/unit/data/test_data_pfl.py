from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from data_helpers import write_pfl_client

from fedloom.cli import main
from fedloom.data import (
    DatasetSpec,
    load_federated_dataset,
    load_fmnist,
    load_pfl_folder,
    save_pfl_folder,
)
from fedloom.errors import ConfigError, DataError


def _write_folder(root: Path, sizes: list[tuple[int, int]], plain: bool = False) -> list[np.ndarray]:
    """PFLlib layout with float32 [n, 1, 4, 4] images whose pixels all equal the sample's label / 10."""
    labels = []
    rng = np.random.default_rng(0)
    for cid, (n_train, n_test) in enumerate(sizes):
        for split, n in (("train", n_train), ("test", n_test)):
            y = rng.integers(0, 4, size=n).astype(np.int64)
            x = np.broadcast_to((y / 10).astype(np.float32)[:, None, None, None], (n, 1, 4, 4)).copy()
            write_pfl_client(root / split / f"{cid}.npz", x, y, plain=plain)
            labels.append(y)
    return labels


def test_pfl_folder_is_read_as_stored(tmp_path: Path) -> None:
    labels = _write_folder(tmp_path, [(6, 2), (3, 1), (9, 3)])
    (tmp_path / "config.json").write_text(json.dumps({"num_classes": 7, "num_clients": 3}))
    ds = load_federated_dataset(DatasetSpec(name=f"pfl:{tmp_path}"))
    assert (ds.num_classes, ds.input_shape, len(ds.clients)) == (7, (1, 4, 4), 3)
    assert [(c.num_train, c.num_test) for c in ds.clients] == [(6, 2), (3, 1), (9, 3)]
    for c in ds.clients:
        assert torch.equal(c.train_y, torch.from_numpy(labels[2 * c.client_id]))
        assert torch.equal(c.test_y, torch.from_numpy(labels[2 * c.client_id + 1]))
        assert torch.equal(c.train_x[:, 0, 0, 0], (c.train_y / 10).float())
    assert ds.statistics["partition"] == {"partition": "as stored", "source": str(tmp_path)}


def test_pfl_plain_keys_hw_images_and_label_max(tmp_path: Path) -> None:
    x = np.zeros((5, 3, 3), dtype=np.float32)
    for split in ("train", "test"):
        write_pfl_client(tmp_path / split / "0.npz", x, np.array([0, 1, 2, 2, 5]), plain=True)
    ds = load_pfl_folder(tmp_path)
    assert ds.input_shape == (1, 3, 3) and ds.num_classes == 6
    assert ds.clients[0].train_x.dtype == torch.float32


def test_pfl_uint8_images_are_normalised(tmp_path: Path) -> None:
    x = np.full((2, 1, 2, 2), 255, dtype=np.uint8)
    for split in ("train", "test"):
        write_pfl_client(tmp_path / split / "0.npz", x, np.array([0, 1]))
    assert load_pfl_folder(tmp_path).clients[0].test_x.eq(1.0).all()


def test_pfl_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_pfl_folder(tmp_path / "none")
    _write_folder(tmp_path, [(2, 1), (2, 1), (2, 1)])
    (tmp_path / "test" / "1.npz").unlink()
    with pytest.raises(DataError, match=r"missing test/1\.npz"):
        load_pfl_folder(tmp_path)
    _write_folder(tmp_path, [(2, 1), (2, 1), (2, 1)])
    with pytest.raises(ConfigError, match="holds 3 clients but num_clients=20"):
        load_federated_dataset(DatasetSpec(name=f"pfl:{tmp_path}", num_clients=20))
    (tmp_path / "config.json").write_text(json.dumps({"num_classes": 2}))
    with pytest.raises(DataError, match="num_classes=2 but the labels go up to 3"):
        load_pfl_folder(tmp_path)
    (tmp_path / "config.json").unlink()
    (tmp_path / "train" / "2.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"cannot read .*2\.npz"):
        load_pfl_folder(tmp_path)
    (tmp_path / "train" / "x.npz").write_bytes(b"")
    with pytest.raises(DataError, match="unexpected name"):
        load_pfl_folder(tmp_path)


def test_pfl_wrong_keys(tmp_path: Path) -> None:
    for split in ("train", "test"):
        (tmp_path / split).mkdir()
        np.savez(tmp_path / split / "0.npz", images=np.zeros(3))
    with pytest.raises(DataError, match="expected keys 'data'"):
        load_pfl_folder(tmp_path)


def test_save_then_load_round_trip(tmp_path: Path) -> None:
    spec = DatasetSpec(name="synthetic", samples=300, num_clients=3, partition="pat:4", image_shape=(3, 8, 8))
    ds = load_federated_dataset(spec)
    save_pfl_folder(ds, tmp_path / "out")
    back = load_federated_dataset(DatasetSpec(name=f"pfl:{tmp_path / 'out'}", num_clients=3))
    assert (back.num_classes, back.input_shape) == (10, (3, 8, 8))
    for a, b in zip(ds.clients, back.clients, strict=True):
        for name in ("train_x", "train_y", "test_x", "test_y"):
            assert torch.equal(getattr(a, name), getattr(b, name))


def test_reads_the_fmnist20_command_output(tmp_path: Path, needs_fmnist: Path) -> None:
    out = tmp_path / "fmnist5"
    assert main(["data", "partition", "fmnist20", str(out), "--stride", "50", "--clients", "5"]) == 0
    ds = load_federated_dataset(DatasetSpec(name=f"pfl:{out}"))
    config = json.loads((out / "config.json").read_text())
    assert len(ds.clients) == 5 and ds.num_classes == 10 and ds.input_shape == (1, 28, 28)
    for c, expected in zip(ds.clients, config["clients"], strict=True):
        assert (c.num_train, c.num_test) == (expected["train_samples"], expected["test_samples"])
        assert ds.statistics["clients"][c.client_id]["labels"] == expected["labels"]  # type: ignore[index]
    # the folder's normalised images are our IDX reader's (every 50th image of train + test)
    ours = load_fmnist(None).x[::50].flatten(1).numpy()
    known = {row.tobytes() for row in ours}
    stored = torch.cat([torch.cat([c.train_x, c.test_x]) for c in ds.clients]).flatten(1).numpy()
    assert len(stored) == 1400 and all(row.tobytes() in known for row in stored)
