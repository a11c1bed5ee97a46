"""The discriminator used only to train the built-in generator (never shipped in the weights file)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def _block(c_in: int, c_out: int) -> nn.Sequential:
    """3x3 conv, then a strided 4x4 conv halving the size; spectrally normalised, leaky ReLUs."""
    return nn.Sequential(
        spectral_norm(nn.Conv2d(c_in, c_in, 3, padding=1)),
        nn.LeakyReLU(0.2),
        spectral_norm(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)),
        nn.LeakyReLU(0.2),
    )


class Discriminator(nn.Module):
    """image [n, 3, R, R] in [-1, 1] -> realness logit [n]. `channels` run from R x R down to 4 x 4.

    A minibatch standard-deviation feature (over groups of `group` images) before the head lets it see,
    and punish, a batch that lacks variety.
    """

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 128), group: int = 4) -> None:
        super().__init__()
        self.group = group
        self.stem = nn.Sequential(spectral_norm(nn.Conv2d(3, channels[0], 3, padding=1)), nn.LeakyReLU(0.2))
        self.blocks = nn.Sequential(*(_block(a, b) for a, b in zip(channels[:-1], channels[1:], strict=True)))
        self.conv = nn.Sequential(
            spectral_norm(nn.Conv2d(channels[-1] + 1, channels[-1], 3, padding=1)), nn.LeakyReLU(0.2)
        )
        self.head = spectral_norm(nn.Linear(channels[-1] * 16, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(image))
        x = self.conv(torch.cat([x, self._spread(x)], dim=1))
        return self.head(x.flatten(1)).squeeze(1)

    def _spread(self, x: torch.Tensor) -> torch.Tensor:
        """[n, 1, h, w]: the mean feature standard deviation within each image's group."""
        n, c, h, w = x.shape
        group = self.group if n % self.group == 0 else n
        spread = x.view(group, n // group, c, h, w).std(dim=0, unbiased=False).mean(dim=(1, 2, 3))
        return spread.repeat(group)[:, None, None, None].expand(n, 1, h, w)
