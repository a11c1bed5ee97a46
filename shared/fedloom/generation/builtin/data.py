"""Training images for the built-in generator: random 32x32 crops of scikit-image's bundled photographs.

Only photographs that ship inside the scikit-image wheel (no download) and whose licence is public domain
or CC0 are used (licences as stated in scikit-image's `skimage.data` docstrings):

- astronaut: NASA, public domain.          - chelsea (a cat): CC0, Stefan van der Walt.
- coffee: CC0, Rachel Michetti.            - rocket: SpaceX, released into the public domain.
- hubble_deep_field: NASA, public domain.  - retina: Wikimedia Commons, CC0 1.0.
- camera: CC0, Lav Varshney (greyscale).   - brick, grass, gravel: CC0Textures, CC0 (greyscale).

Greyscale photographs are repeated on three channels and drawn half as often as colour ones.

scikit-image itself (BSD-3-Clause) is needed only to train (`pip install 'fedloom[train-builtin]'`);
loading and running the committed weights never imports it.

Crops are cut from an image pyramid (scale factors 2^(k/2)), so one crop shows anything from a whole
photograph down to its finest texture. Flat crops (tiny pixel spread) are mostly rejected.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from fedloom.errors import FedLoomError

# name -> how often, relative to the others, a crop comes from it
IMAGES: dict[str, float] = {
    **dict.fromkeys(("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina"), 1.0),
    **dict.fromkeys(("camera", "brick", "grass", "gravel"), 0.5),
}
DATASET_NAME = "scikit-image sample photographs: " + ", ".join(IMAGES)
LICENSE = (
    "public domain (astronaut, rocket, hubble_deep_field); CC0 (chelsea, coffee, retina, camera, brick, "
    "grass, gravel); shipped in scikit-image (BSD-3-Clause)"
)
_MIN_STD = 0.05  # crops flatter than this are kept only with probability _FLAT_KEEP
_FLAT_KEEP = 0.1


def load_photographs() -> list[torch.Tensor]:
    """The photographs as float [3, H, W] tensors in [0, 1]. Needs scikit-image."""
    try:
        import skimage.data
    except ImportError as exc:
        raise FedLoomError(
            "training the built-in generator needs scikit-image: pip install 'fedloom[train-builtin]'"
        ) from exc
    photos = []
    for name in IMAGES:
        array = np.asarray(getattr(skimage.data, name)(), dtype=np.float32) / 255.0
        if array.ndim == 2:
            array = np.repeat(array[..., None], 3, axis=2)
        photos.append(torch.from_numpy(array[..., :3].copy()).permute(2, 0, 1))
    return photos


def build_pyramid(photo: torch.Tensor, size: int, levels_per_octave: int = 2) -> list[torch.Tensor]:
    """Antialiased downscales of `photo` by 2^(k/levels_per_octave) while the short side stays >= size."""
    pyramid = []
    short = min(photo.shape[-2:])
    for k in range(int(levels_per_octave * math.log2(short / size)) + 1):
        scale = 2.0 ** (-k / levels_per_octave)
        height, width = (max(size, round(s * scale)) for s in photo.shape[-2:])
        level = F.interpolate(photo[None], size=(height, width), mode="bilinear", antialias=True)
        pyramid.append(level[0].clamp(0, 1))
    return pyramid


def crop_bank(n: int, size: int, rng: torch.Generator) -> torch.Tensor:
    """n crops [n, 3, size, size] as uint8: a photograph by its weight, then any of its pyramid levels."""
    levels, weights = [], []
    for photo, weight in zip(load_photographs(), IMAGES.values(), strict=True):
        pyramid = build_pyramid(photo, size)
        levels += pyramid
        weights += [weight / len(pyramid)] * len(pyramid)
    kept: list[torch.Tensor] = []
    while sum(len(chunk) for chunk in kept) < n:
        which = torch.multinomial(torch.tensor(weights), n, replacement=True, generator=rng)
        crops = torch.cat([_crops_of(levels[i], int((which == i).sum()), size, rng) for i in range(len(levels))])
        crops = crops[torch.randperm(len(crops), generator=rng)]
        flat = crops.flatten(1).std(dim=1) < _MIN_STD
        kept.append(crops[~flat | (torch.rand(len(crops), generator=rng) < _FLAT_KEEP)])
    return torch.cat(kept)[:n].mul(255).round().to(torch.uint8)


def _crops_of(level: torch.Tensor, count: int, size: int, rng: torch.Generator) -> torch.Tensor:
    """count random size x size crops of a [3, H, W] image, half of them mirrored."""
    tops = torch.randint(level.shape[1] - size + 1, (count, 1, 1), generator=rng)
    lefts = torch.randint(level.shape[2] - size + 1, (count, 1, 1), generator=rng)
    offsets = torch.arange(size)
    crops = level[:, tops + offsets[:, None], lefts + offsets[None, :]].permute(1, 0, 2, 3)
    mirror = torch.rand(count, generator=rng) < 0.5
    return torch.where(mirror[:, None, None, None], crops.flip(-1), crops)


def real_batches(bank: torch.Tensor, batch: int, rng: torch.Generator) -> torch.Tensor:
    """A random batch of the bank as float in [-1, 1] (the discriminator's input range)."""
    index = torch.randint(bank.shape[0], (batch,), generator=rng)
    return bank[index].float().div(127.5).sub(1.0)
