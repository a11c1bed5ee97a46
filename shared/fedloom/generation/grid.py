"""Write a batch of images as one PNG grid (used for docs/builtin_generator.png and training previews)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.utils import make_grid


def save_image_grid(images: torch.Tensor, path: Path | str, nrow: int = 8, scale: int = 1, padding: int = 2) -> Path:
    """Save [n, 3, R, R] (or [n, 1, R, R]) images in [0, 1] as a PNG grid with `nrow` images per row.

    `scale` > 1 enlarges every pixel to a scale x scale block (nearest neighbour), for small images.
    Values outside [0, 1] are clamped. Parent folders are created. Returns the path written.
    """
    if images.ndim != 4 or images.shape[1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(f"images must be [n, 1 or 3, H, W] with n > 0, got {list(images.shape)}")
    if nrow < 1 or scale < 1:
        raise ValueError(f"nrow and scale must be >= 1, got nrow={nrow}, scale={scale}")
    images = images.detach().float().cpu().clamp(0.0, 1.0)
    if scale > 1:
        images = F.interpolate(images, scale_factor=float(scale), mode="nearest")
    grid = make_grid(images, nrow=nrow, padding=padding, pad_value=1.0)
    array = grid.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.squeeze(2) if array.shape[2] == 1 else array).save(out, format="PNG")
    return out
