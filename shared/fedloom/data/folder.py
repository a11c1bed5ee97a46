"""An image folder with one sub-folder per class (`folder:DIR`), read with Pillow.

Classes are the sub-folder names in sorted order (label = position). Images are converted to one
channel when every image is grey-scale, else to RGB, and resized (bilinear) to `size` x `size`, or
to the first image's size when no size is given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from fedloom.data.raw import RawDataset, labels_tensor, normalise_uint8
from fedloom.errors import DataError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})
_GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "F"})


def list_images(root: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """Class names and (image path, label) pairs, both in sorted order."""
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist; give folder:DIR with one sub-folder per class")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"image folder {root} has no class sub-folders; put each class's images in DIR/<class>/")
    items: list[tuple[Path, int]] = []
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"class folder {root / name} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        items.extend((f, label) for f in files)
    return classes, items


def _probe(path: Path) -> tuple[str, tuple[int, int]]:
    """(mode, (width, height)) from the header only."""
    try:
        with Image.open(path) as img:
            return img.mode, img.size
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc


def _load(path: Path, mode: str, size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    try:
        with Image.open(path) as opened:
            img = opened.convert(mode)
        if img.size != size:
            img = img.resize(size, Image.Resampling.BILINEAR)
        return np.asarray(img, dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc


def load_image_folder(root: Path, size: int | None = None) -> RawDataset:
    """All images of `root/<class>/*`, float32 [N, C, H, W] in [-1, 1] (C = 1 if all grey, else 3)."""
    classes, items = list_images(root)
    probes = [_probe(path) for path, _ in items]
    mode = "L" if all(m in _GREY_MODES for m, _ in probes) else "RGB"
    target = (size, size) if size is not None else probes[0][1]
    pixels = np.stack([_load(path, mode, target) for path, _ in items])
    x = normalise_uint8(pixels, channels_last=mode == "RGB")
    y = labels_tensor(np.array([label for _, label in items], dtype=np.int64))
    return RawDataset(f"folder:{root}", x, y, len(classes))
