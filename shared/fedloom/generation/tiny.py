"""A tiny, randomly initialised generator with StyleGAN's interface, for tests and offline demos.

Mapping: z ~ N(0, I) -> 2-layer MLP -> w. Synthesis: w -> linear to a 4x4 map -> upsample + conv
stages -> sigmoid image in [0, 1]. Its weights are a function of `seed` only. It makes no claim to
draw anything recognisable; it gives FedKTL a smooth, deterministic latent -> image map.
"""

from __future__ import annotations

import torch
from torch import nn

from fedloom.generation.protocol import SamplesThroughMapping, checked_z


class TinyGenerator(SamplesThroughMapping, nn.Module):
    """Deterministic random generator implementing `ImageGenerator`."""

    def __init__(self, z_dim: int = 64, w_dim: int = 64, resolution: int = 32, seed: int = 0) -> None:
        super().__init__()
        if resolution < 4 or resolution & (resolution - 1):
            raise ValueError(f"resolution must be a power of two >= 4, got {resolution}")
        self.z_dim, self.w_dim, self.num_ws, self.resolution = z_dim, w_dim, 1, resolution
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.mapping = nn.Sequential(nn.Linear(z_dim, w_dim), nn.LeakyReLU(0.2), nn.Linear(w_dim, w_dim))
            self.stem = nn.Linear(w_dim, 32 * 4 * 4)
            stages: list[nn.Module] = []
            size = 4
            while size < resolution:
                stages += [nn.Upsample(scale_factor=2), nn.Conv2d(32, 32, 3, padding=1), nn.LeakyReLU(0.2)]
                size *= 2
            self.stages = nn.Sequential(*stages)
            self.to_rgb = nn.Conv2d(32, 3, 1)
        self.requires_grad_(False)
        self.eval()

    @torch.no_grad()
    def map_latents(self, z: torch.Tensor) -> torch.Tensor:
        """z [n, z_dim] (any device) -> w [n, w_dim] on this generator's device."""
        return self.mapping(checked_z(z, self.z_dim).to(self.stem.weight.device))

    @torch.no_grad()
    def synthesize(self, w: torch.Tensor) -> torch.Tensor:
        h = self.stem(w.to(self.stem.weight.device)).view(-1, 32, 4, 4)
        return torch.sigmoid(self.to_rgb(self.stages(h)))
