"""The `ImageGenerator` contract FedKTL's server uses (DESIGN.md section 3)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class ImageGenerator(Protocol):
    """A pre-trained generator seen through its latent space.

    `sample_latents(n, rng)` draws n latents w ~ the generator's prior, shape [n, w_dim]: it is
    `map_latents(torch.randn(n, z_dim, generator=rng, device=rng.device))`.
    `map_latents(z)` maps given z [n, z_dim] (any device) to w [n, w_dim], so a caller that samples z
    with its own seeded RNG (e.g. across a network) gets exactly the w that `sample_latents` would.
    `synthesize(w)` turns [n, w_dim] latents into RGB images [n, 3, resolution, resolution] in [0, 1].
    Both return tensors on the generator's own device; `synthesize` accepts w on any device.
    """

    z_dim: int
    w_dim: int
    num_ws: int
    resolution: int

    def sample_latents(self, n: int, rng: torch.Generator) -> torch.Tensor: ...

    def map_latents(self, z: torch.Tensor) -> torch.Tensor: ...

    def synthesize(self, w: torch.Tensor) -> torch.Tensor: ...


class SamplesThroughMapping:
    """`sample_latents` for generators whose prior is `map_latents(z)` with z ~ N(0, I) drawn from `rng`.

    Every backend draws z the same way, so a caller that sends its own z to a remote generator gets the
    same w as one that samples in process.
    """

    z_dim: int

    def map_latents(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def sample_latents(self, n: int, rng: torch.Generator) -> torch.Tensor:
        return self.map_latents(torch.randn(n, self.z_dim, generator=rng, device=rng.device))


def checked_z(z: torch.Tensor, z_dim: int) -> torch.Tensor:
    """z as float32 after checking its shape is [n, z_dim]."""
    if z.ndim != 2 or z.shape[1] != z_dim:
        raise ValueError(f"z must have shape [n, {z_dim}], got {list(z.shape)}")
    return z.float()
