"""A whole, not yet partitioned data set in memory, and the shared image normalisation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from fedloom.errors import DataError


@dataclass(frozen=True)
class RawDataset:
    """All samples of one data set: x float32 [N, C, H, W] in [-1, 1], y int64 [N] in 0..num_classes-1."""

    name: str
    x: torch.Tensor
    y: torch.Tensor
    num_classes: int

    @property
    def input_shape(self) -> tuple[int, int, int]:
        c, h, w = self.x.shape[1:]
        return int(c), int(h), int(w)


def _normalisation_table() -> npt.NDArray[np.float32]:
    """The 256 possible outputs of ToTensor + Normalize(.5, .5), computed with exactly its float32 ops."""
    t = torch.arange(256, dtype=torch.uint8).to(torch.float32).div(255.0)
    return t.sub(0.5).div(0.5).numpy()


_TABLE = _normalisation_table()


def normalise_uint8(images: npt.NDArray[np.uint8], channels_last: bool = False) -> torch.Tensor:
    """uint8 images -> float32 [N, C, H, W] in [-1, 1], bit-identical to ToTensor + Normalize(.5, .5).

    Accepts [N, H, W] (one channel), [N, C, H, W], or [N, H, W, C] when `channels_last`. One table
    look-up per pixel (the op sequence depends on the byte value only), so 70k images take ~0.1 s.
    """
    if images.dtype != np.uint8:
        raise DataError(f"expected uint8 images, got {images.dtype}")
    if images.ndim not in (3, 4):
        raise DataError(f"expected images of shape [N, H, W] or [N, C, H, W], got {tuple(images.shape)}")
    if images.ndim == 4 and channels_last:
        images = images.transpose(0, 3, 1, 2)
    x = _TABLE[np.ascontiguousarray(images)]
    return torch.from_numpy(x[:, None] if x.ndim == 3 else x)


def labels_tensor(labels: npt.ArrayLike) -> torch.Tensor:
    """Any integer label sequence -> int64 tensor [N]; negative or non-integer labels raise DataError."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise DataError(f"labels must be a 1-D integer array, got shape {arr.shape} dtype {arr.dtype}")
    if arr.size and int(arr.min()) < 0:
        raise DataError(f"labels must be >= 0, found {int(arr.min())}")
    return torch.from_numpy(arr.astype(np.int64))
