"""IDX files (the MNIST / Fashion-MNIST format), gzipped or not, and the two data sets stored in them.

Layout: two zero bytes, a type byte, the number of dimensions, one big-endian uint32 per dimension,
then the values in row-major order, big-endian.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fedloom.data.raw import RawDataset, labels_tensor, normalise_uint8
from fedloom.errors import DataError

FMNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
MNIST_DIR = Path("/usr/share/datasets/mnist")
IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_IDX_TYPES: dict[int, str] = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _decode_idx(raw: bytes, source: str) -> npt.NDArray[np.generic]:
    if len(raw) < 4:
        raise DataError(f"{source}: too short to be an IDX file ({len(raw)} bytes)")
    zero, type_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or type_code not in _IDX_TYPES:
        raise DataError(f"{source}: not an IDX file (header {raw[:4].hex()}); is it the right file?")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{source}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(f"{source}: holds {len(raw) - header} data bytes, dims {dims} need {expected}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: Path) -> npt.NDArray[np.generic]:
    """Read one IDX file; a name ending in .gz is decompressed. Returns an array of the stored shape."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from exc
    return _decode_idx(raw, str(path))


def find_idx(directory: Path, stem: str) -> Path | None:
    """`directory/stem` or `directory/stem.gz`, whichever exists (plain first)."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _missing_hint(directory: Path, stem: str, hint: str) -> DataError:
    return DataError(
        f"IDX file {directory / stem}[.gz] not found; {hint} "
        f"(the folder must hold {', '.join(IDX_STEMS)}, each optionally .gz)"
    )


def load_idx_dataset(name: str, directory: Path, hint: str) -> RawDataset:
    """Train then test set of an MNIST-style folder, merged (like PFLlib), normalised to [-1, 1]."""
    arrays = []
    for stem in IDX_STEMS:
        path = find_idx(directory, stem)
        if path is None:
            raise _missing_hint(directory, stem, hint)
        arrays.append(read_idx(path))
    train_x, train_y, test_x, test_y = arrays
    x = np.concatenate([train_x, test_x])
    y = np.concatenate([train_y, test_y])
    if x.dtype != np.uint8 or x.ndim != 3 or len(x) != len(y):
        raise DataError(f"{directory}: expected uint8 images [N, H, W] and N labels, got {x.shape}, {y.shape}")
    labels = labels_tensor(y)
    return RawDataset(name, normalise_uint8(x), labels, int(labels.max()) + 1)


def load_fmnist(data_dir: Path | None) -> RawDataset:
    directory = data_dir or FMNIST_DIR
    hint = "install the Debian package dataset-fashion-mnist (apt install dataset-fashion-mnist) or set data_dir"
    return load_idx_dataset("fmnist", directory, hint)


def load_mnist(data_dir: Path | None) -> RawDataset:
    directory = data_dir or MNIST_DIR
    hint = "download the four MNIST IDX files into that folder or set data_dir to where they are"
    return load_idx_dataset("mnist", directory, hint)
