"""Turn generator output ([0, 1] RGB, any square size) into images shaped like a client's data."""

from __future__ import annotations

import torch
import torch.nn.functional as F

_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, what PIL's convert("L") uses


def to_client_images(images: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """[n, 3, R, R] in [0, 1] -> [n, C, H, W] in [-1, 1]: resize the shorter side, centre-crop, grey if C=1.

    The final Normalize(0.5, 0.5) matches how the clients' data are normalised (algorithms.md 1.12).
    """
    channels, height, width = shape
    if channels not in (1, 3):
        raise ValueError(f"clients' images must have 1 or 3 channels, got {channels}")
    side = max(height, width)
    resized = F.interpolate(images, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
    top, left = (side - height) // 2, (side - width) // 2
    cropped = resized[:, :, top : top + height, left : left + width].clamp(0, 1)
    if channels == 1:
        weights = torch.tensor(_LUMA, dtype=cropped.dtype, device=cropped.device).view(1, 3, 1, 1)
        cropped = (cropped * weights).sum(dim=1, keepdim=True)
    return (cropped - 0.5) / 0.5
