"""PFLlib / HtFLlib partition folders (`pfl:DIR`): DIR/train/<i>.npz, DIR/test/<i>.npz, DIR/config.json.

Each .npz holds either plain arrays `x` and `y`, or (PFLlib's own format) one key `data` with a
pickled dict {"x": float32 [n, C, H, W] or [n, H, W], "y": int64 [n]}. Reading the latter needs
`allow_pickle=True`, which can run code hidden in the file: only point `pfl:` at folders you (or your
own tools) wrote. We open each file without pickle first and allow it only for the `data` key;
nothing received over the network is ever read this way. uint8 images are normalised to [-1, 1].
Clients are taken as they are: one per file, ordered by their integer index.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from fedloom.data.raw import labels_tensor, normalise_uint8
from fedloom.data.stats import compute_statistics
from fedloom.data.types import ClientData, FederatedDataset
from fedloom.errors import DataError

_READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    AttributeError,
    zipfile.BadZipFile,
    pickle.PickleError,
)
_LAYOUT = "a PFLlib folder holds train/<i>.npz and test/<i>.npz for clients i = 0..n-1"


def _numbered_files(directory: Path) -> dict[int, Path]:
    if not directory.is_dir():
        raise DataError(f"{directory} does not exist; {_LAYOUT}")
    files: dict[int, Path] = {}
    for path in directory.glob("*.npz"):
        if not path.stem.isdigit():
            raise DataError(f"{path}: unexpected name; {_LAYOUT}")
        files[int(path.stem)] = path
    return files


def _client_count(root: Path, train: dict[int, Path], test: dict[int, Path]) -> int:
    if not train and not test:
        raise DataError(f"{root} holds no client files; {_LAYOUT}")
    n = max(train.keys() | test.keys()) + 1
    for split, files in (("train", train), ("test", test)):
        missing = sorted(set(range(n)) - files.keys())
        if missing:
            shown = ", ".join(f"{split}/{i}.npz" for i in missing[:10])
            raise DataError(f"{root}: missing {shown} ({len(missing)} missing of {n} clients); {_LAYOUT}")
    return n


def _to_images(x: npt.NDArray[np.generic], path: Path) -> torch.Tensor:
    if x.ndim not in (3, 4):
        raise DataError(f"{path}: x must be [n, C, H, W] or [n, H, W], got shape {x.shape}")
    if x.dtype == np.uint8:
        return normalise_uint8(x.astype(np.uint8))
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return t.unsqueeze(1) if t.ndim == 3 else t


def _read_arrays(path: Path) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.generic]]:
    with np.load(path, allow_pickle=False) as npz:
        if "x" in npz.files and "y" in npz.files:
            return npz["x"], npz["y"]
        if "data" not in npz.files:
            raise DataError(f"{path}: expected keys 'data' (PFLlib) or 'x' and 'y', found {npz.files}")
    with np.load(path, allow_pickle=True) as npz:  # trusted local file, PFLlib's pickled dict (see above)
        content = npz["data"].item()
    if not isinstance(content, dict) or "x" not in content or "y" not in content:
        raise DataError(f"{path}: key 'data' must hold a dict with 'x' and 'y'")
    return np.asarray(content["x"]), np.asarray(content["y"])


def read_client_file(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """(x float32 [n, C, H, W], y int64 [n]) of one client file."""
    try:
        x, y = _read_arrays(path)
    except _READ_ERRORS as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    images, labels = _to_images(x, path), labels_tensor(y)
    if len(images) != len(labels):
        raise DataError(f"{path}: {len(images)} images but {len(labels)} labels")
    return images, labels


def _num_classes(root: Path, clients: list[ClientData]) -> int:
    top = max((int(t.max()) for c in clients for t in (c.train_y, c.test_y) if t.numel()), default=-1)
    config = root / "config.json"
    if not config.is_file():
        return top + 1
    try:
        declared = json.loads(config.read_text(encoding="utf-8")).get("num_classes")
    except (OSError, ValueError, AttributeError) as exc:
        raise DataError(f"cannot read {config}: {exc}") from exc
    if declared is None:
        return top + 1
    if not isinstance(declared, int) or declared <= top:
        raise DataError(f"{config}: num_classes={declared!r} but the labels go up to {top}; fix config.json")
    return declared


def _input_shape(root: Path, clients: list[ClientData]) -> tuple[int, int, int]:
    shapes = {tuple(t.shape[1:]) for c in clients for t in (c.train_x, c.test_x)}
    if len(shapes) != 1:
        raise DataError(f"{root}: clients' images differ in shape {sorted(shapes)}; all must be equal")
    c, h, w = shapes.pop()
    return int(c), int(h), int(w)


def load_pfl_folder(root: Path) -> FederatedDataset:
    """All clients of a PFLlib/HtFLlib partition folder, as stored (no re-partitioning, no re-split)."""
    train, test = _numbered_files(root / "train"), _numbered_files(root / "test")
    clients = []
    for cid in range(_client_count(root, train, test)):
        train_x, train_y = read_client_file(train[cid])
        test_x, test_y = read_client_file(test[cid])
        clients.append(ClientData(cid, train_x, train_y, test_x, test_y))
    num_classes, shape = _num_classes(root, clients), _input_shape(root, clients)
    name = f"pfl:{root}"
    stats = compute_statistics(name, num_classes, shape, clients)
    stats["partition"] = {"partition": "as stored", "source": str(root)}
    return FederatedDataset(name, num_classes, shape, clients, stats)


def save_pfl_folder(ds: FederatedDataset, root: Path) -> Path:
    """Write `ds` in the PFLlib layout (key `data` -> dict(x, y)) plus config.json; returns `root`."""
    for split in ("train", "test"):
        (root / split).mkdir(parents=True, exist_ok=True)
    for c in ds.clients:
        for split, x, y in (("train", c.train_x, c.train_y), ("test", c.test_x, c.test_y)):
            content = np.array({"x": x.numpy(), "y": y.numpy()}, dtype=object)
            with open(root / split / f"{c.client_id}.npz", "wb") as f:
                np.savez_compressed(f, data=content)
    config = {**ds.statistics, "num_clients": len(ds.clients), "num_classes": ds.num_classes}
    (root / "config.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    return root
