"""`BuiltinGenerator`: the mapping and synthesis networks behind FedLoom's `ImageGenerator` protocol."""

from __future__ import annotations

import torch
from torch import nn

from fedloom.generation.builtin.model import BuiltinConfig, MappingNetwork, SynthesisNetwork
from fedloom.generation.protocol import SamplesThroughMapping, checked_z


class BuiltinGenerator(SamplesThroughMapping, nn.Module):
    """A small StyleGAN-like generator (num_ws = 1) trained by FedLoom on CC0 / public-domain photographs.

    `forward(z)` is the raw training path (images in about [-1, 1]); `sample_latents` and `synthesize`
    are the protocol's no-grad inference path (images in [0, 1]).
    """

    def __init__(self, config: BuiltinConfig | None = None) -> None:
        super().__init__()
        self.config = config or BuiltinConfig()
        self.z_dim, self.w_dim = self.config.z_dim, self.config.w_dim
        self.num_ws, self.resolution = 1, self.config.resolution
        self.mapping = MappingNetwork(self.z_dim, self.w_dim, self.config.mapping_layers)
        self.synthesis = SynthesisNetwork(self.w_dim, self.config.channels)

    @property
    def device(self) -> torch.device:
        return self.synthesis.stem.weight.device

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.synthesis(self.mapping(z))

    @torch.no_grad()
    def map_latents(self, z: torch.Tensor) -> torch.Tensor:
        """z [n, z_dim] (any device) -> w = mapping(z) [n, w_dim] on this generator's device."""
        return self.mapping(checked_z(z, self.z_dim).to(self.device))

    @torch.no_grad()
    def synthesize(self, w: torch.Tensor) -> torch.Tensor:
        """[n, w_dim] latents (any device) -> [n, 3, R, R] RGB in [0, 1] on this generator's device."""
        if w.ndim != 2 or w.shape[1] != self.w_dim:
            raise ValueError(f"w must have shape [n, {self.w_dim}], got {list(w.shape)}")
        image = self.synthesis(w.to(self.device, torch.float32))
        return image.add(1.0).mul(0.5).clamp(0.0, 1.0)
