"""The built-in generator: a StyleGAN-like mapping network and a small style-modulated decoder at 32x32.

Mapping: z ~ N(0, I), normalised, through an MLP to w (so w has a learned prior, as in StyleGAN).
Synthesis: w -> a 4x4 feature map, then conv stages up to 32x32 whose 3x3 convolutions are modulated by
w (per-input-channel scales, then demodulated to unit output variance: StyleGAN2's weight demodulation,
written as scale-conv-rescale so the batch shares one ordinary convolution). Each stage adds its own
RGB image to the upsampled sum of the previous ones (skip architecture). No noise inputs: the image is a
deterministic, smooth function of w, as FedKTL's class-centroid latents need.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class BuiltinConfig:
    """Architecture; `channels` lists the feature width at 4x4, 8x8, ... up to `resolution`."""

    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 4
    channels: tuple[int, ...] = field(default=(128, 96, 64, 32))

    @property
    def resolution(self) -> int:
        return 4 * 2 ** (len(self.channels) - 1)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuiltinConfig:
        return cls(
            z_dim=int(data["z_dim"]),
            w_dim=int(data["w_dim"]),
            mapping_layers=int(data["mapping_layers"]),
            channels=tuple(int(c) for c in data["channels"]),
        )


class MappingNetwork(nn.Module):
    """z -> w: normalise z to the unit sphere's radius sqrt(z_dim), then an MLP with leaky ReLUs."""

    def __init__(self, z_dim: int, w_dim: int, layers: int) -> None:
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        blocks: list[nn.Module] = []
        for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
            linear = nn.Linear(d_in, d_out)
            nn.init.kaiming_normal_(linear.weight, a=0.2, nonlinearity="leaky_relu")  # keeps w's spread
            nn.init.zeros_(linear.bias)
            blocks += [linear, nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*blocks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
        return self.net(z)


class ModulatedConv(nn.Module):
    """3x3 convolution whose input channels are scaled by an affine map of w, then demodulated."""

    def __init__(self, w_dim: int, c_in: int, c_out: int) -> None:
        super().__init__()
        self.affine = nn.Linear(w_dim, c_in)
        nn.init.normal_(self.affine.weight, std=w_dim**-0.5)
        nn.init.ones_(self.affine.bias)
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 3, 3) / (c_in * 9) ** 0.5)
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        style = self.affine(w)  # [n, c_in]
        demod = torch.rsqrt((self.weight.square().sum(dim=(2, 3)) @ style.square().T).T + 1e-8)  # [n, c_out]
        x = F.conv2d(x * style[:, :, None, None], self.weight, padding=1)
        return F.leaky_relu(x * demod[:, :, None, None] + self.bias[None, :, None, None], 0.2)


class SynthesisStage(nn.Module):
    """(upsample x2, unless first) -> modulated conv x2 -> features, plus a 1x1 RGB output."""

    def __init__(self, w_dim: int, c_in: int, c_out: int, upsample: bool) -> None:
        super().__init__()
        self.upsample = upsample
        self.conv1 = ModulatedConv(w_dim, c_in, c_out)
        self.conv2 = ModulatedConv(w_dim, c_out, c_out)
        self.to_rgb = nn.Conv2d(c_out, 3, 1)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = self.conv2(self.conv1(x, w), w)
        return x, self.to_rgb(x)


class SynthesisNetwork(nn.Module):
    """w [n, w_dim] -> image [n, 3, R, R] in roughly [-1, 1] (not clamped: the discriminator sees it raw)."""

    def __init__(self, w_dim: int, channels: tuple[int, ...]) -> None:
        super().__init__()
        self.stem = nn.Linear(w_dim, channels[0] * 16)
        ins = (channels[0],) + channels[:-1]
        self.stages = nn.ModuleList(
            SynthesisStage(w_dim, c_in, c_out, upsample=i > 0)
            for i, (c_in, c_out) in enumerate(zip(ins, channels, strict=True))
        )

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.stem(w), 0.2).view(w.shape[0], -1, 4, 4)
        image: torch.Tensor | None = None
        for stage in self.stages:
            x, rgb = stage(x, w)
            if image is not None:
                image = F.interpolate(image, scale_factor=2.0, mode="bilinear", align_corners=False)
            image = rgb if image is None else image + rgb
        assert image is not None
        return image
