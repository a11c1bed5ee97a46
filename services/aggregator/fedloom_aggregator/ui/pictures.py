"""Generated images as inline PNG data URIs (one per class), enlarged so small client images stay visible."""

from __future__ import annotations

import base64
import io

import torch
import torch.nn.functional as F
from PIL import Image

SHOWN_SIDE = 96  # pixels on screen for the longer side of one image


def png_bytes(image: torch.Tensor) -> bytes:
    """One [channels, H, W] image in [0, 1] as PNG, scaled up (nearest neighbour) to about SHOWN_SIDE."""
    scale = max(1, SHOWN_SIDE // max(image.shape[-2:]))
    big = F.interpolate(image.float().unsqueeze(0), scale_factor=float(scale), mode="nearest")[0]
    array = big.clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    buffer = io.BytesIO()
    Image.fromarray(array.squeeze(2) if array.shape[2] == 1 else array).save(buffer, format="PNG")
    return buffer.getvalue()


def data_uris(images: torch.Tensor) -> list[str]:
    return [f"data:image/png;base64,{base64.b64encode(png_bytes(image)).decode()}" for image in images]
