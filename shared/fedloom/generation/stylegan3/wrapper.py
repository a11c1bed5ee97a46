"""`StyleGAN3Generator`: a loaded StyleGAN3 network seen through the `ImageGenerator` protocol.

Latents are single w vectors [n, w_dim] (one w broadcast to all num_ws layers). Images are mapped from
the raw output range as gen_images.py does for uint8 (stylegan3.md section 3.6, last step), but kept
as float: (x * 127.5 + 128).clamp(0, 255) / 255, so they lie in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import torch

from fedloom.errors import ConfigError
from fedloom.generation.protocol import SamplesThroughMapping, checked_z
from fedloom.generation.stylegan3.loading import load_network
from fedloom.generation.stylegan3.network import Generator


class StyleGAN3Generator(SamplesThroughMapping):
    """Implements `fedloom.generation.ImageGenerator` on top of a StyleGAN3 `Generator`.

    Options: `truncation_psi` / `truncation_cutoff` for `sample_latents`, `class_index` for conditional
    networks (the label is all zeros when None), `batch_size` to bound memory in `synthesize`,
    `force_fp32` (None: float32 on CPU, NVIDIA's float16 layers on CUDA).
    """

    def __init__(
        self,
        network: Generator,
        *,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        class_index: int | None = None,
        batch_size: int = 16,
        force_fp32: bool | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if class_index is not None and not 0 <= class_index < network.c_dim:
            raise ConfigError(f"class_index must be in [0, {network.c_dim}), got {class_index}")
        self.network = network.eval().requires_grad_(False)
        self.z_dim, self.w_dim, self.num_ws = network.z_dim, network.w_dim, network.num_ws
        self.c_dim, self.resolution = network.c_dim, network.img_resolution
        self.truncation_psi, self.truncation_cutoff = truncation_psi, truncation_cutoff
        self.class_index, self.batch_size, self.force_fp32 = class_index, batch_size, force_fp32

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        device: str | torch.device = "cpu",
        *,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        class_index: int | None = None,
        batch_size: int = 16,
        force_fp32: bool | None = None,
    ) -> StyleGAN3Generator:
        """Load a network (NVIDIA pickle or safetensors folder) onto `device` and wrap it."""
        return cls(
            load_network(path, device),
            truncation_psi=truncation_psi,
            truncation_cutoff=truncation_cutoff,
            class_index=class_index,
            batch_size=batch_size,
            force_fp32=force_fp32,
        )

    @property
    def device(self) -> torch.device:
        return self.network.mapping.w_avg.device

    def labels(self, n: int) -> torch.Tensor:
        """Conditioning labels [n, c_dim]: one-hot `class_index`, or zeros."""
        c = torch.zeros(n, self.c_dim, device=self.device)
        if self.class_index is not None:
            c[:, self.class_index] = 1
        return c

    @torch.no_grad()
    def map_latents(self, z: torch.Tensor) -> torch.Tensor:
        """z [n, z_dim] (any device) -> w [n, w_dim] on the network's device (truncation and label applied)."""
        z = checked_z(z, self.z_dim).to(self.device)
        ws = self.network.mapping(z, self.labels(z.shape[0]), self.truncation_psi, self.truncation_cutoff)
        return ws[:, 0]

    @torch.no_grad()
    def synthesize(self, w: torch.Tensor) -> torch.Tensor:
        """w [n, w_dim] -> images [n, 3, R, R] in [0, 1], computed in chunks of `batch_size`."""
        if w.ndim != 2 or w.shape[1] != self.w_dim:
            raise ValueError(f"w must have shape [n, {self.w_dim}], got {list(w.shape)}")
        if w.shape[0] == 0:
            return torch.empty(0, self.network.img_channels, self.resolution, self.resolution, device=self.device)
        chunks = []
        for part in w.to(self.device, torch.float32).split(self.batch_size):
            ws = part.unsqueeze(1).repeat(1, self.num_ws, 1)
            x = self.network.synthesis(ws, noise_mode="const", force_fp32=self.force_fp32)
            chunks.append((x * 127.5 + 128).clamp(0, 255) / 255)
        return torch.cat(chunks)
