"""Helpers for the fedloom.data tests: tiny IDX files and PFLlib client files written on the fly."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

FMNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}


def write_idx(path: Path, array: np.ndarray, dtype: str = "u1") -> Path:
    """Write `array` as an IDX file (gzipped when the name ends in .gz)."""
    data = np.ascontiguousarray(array, dtype=np.dtype(dtype))
    header = struct.pack(">HBB", 0, _IDX_CODES[data.dtype], data.ndim)
    header += struct.pack(f">{data.ndim}I", *data.shape)
    raw = header + data.tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def write_pfl_client(path: Path, x: np.ndarray, y: np.ndarray, plain: bool = False) -> None:
    """One client file exactly as PFLlib writes it (key `data` -> dict), or with plain x/y keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        if plain:
            np.savez_compressed(f, x=x, y=y)
        else:
            np.savez_compressed(f, data={"x": x, "y": y})
