"""Fourier-feature input and the synthesis network ws -> image (stylegan3.md sections 3.3, 3.5, 3.6)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fedloom.generation.stylegan3.layers import FullyConnectedLayer, SynthesisLayer
from fedloom.generation.stylegan3.schedule import InputSpec, SynthesisConfig, input_spec, layer_specs

NOISE_MODES = ("random", "const", "none")


class SynthesisInput(nn.Module):
    """Fourier features rotated and translated by an affine of w0 (section 3.5).

    Buffers: `transform` (the *inverse* of the user transform, identity by default), `freqs`, `phases`.
    """

    transform: torch.Tensor
    freqs: torch.Tensor
    phases: torch.Tensor

    def __init__(self, spec: InputSpec, w_dim: int) -> None:
        super().__init__()
        self.spec = spec
        self.w_dim, self.channels, self.size = w_dim, spec.channels, spec.size
        self.sampling_rate, self.bandwidth = spec.sampling_rate, spec.bandwidth
        # Random frequencies inside the band and random phases; real values come from the file.
        freqs = torch.randn(spec.channels, 2)
        freqs = freqs / freqs.norm(dim=1, keepdim=True).clamp_min(1e-8) * torch.rand(spec.channels, 1)
        self.weight = nn.Parameter(torch.randn(spec.channels, spec.channels))
        self.affine = FullyConnectedLayer(w_dim, 4, weight_init=0.0, bias_init=[1.0, 0.0, 0.0, 0.0])
        self.register_buffer("transform", torch.eye(3))
        self.register_buffer("freqs", freqs * spec.bandwidth)
        self.register_buffer("phases", torch.rand(spec.channels) - 0.5)

    def _transformed_freqs(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotate/translate the frequencies by affine(w): freqs' [N, C, 2], phases' [N, C] (steps 1-5)."""
        n = w.shape[0]
        t = self.affine(w)
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        m_r = torch.eye(3, device=w.device).unsqueeze(0).repeat(n, 1, 1)
        m_r[:, 0, 0], m_r[:, 0, 1], m_r[:, 1, 0], m_r[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        m_t = torch.eye(3, device=w.device).unsqueeze(0).repeat(n, 1, 1)
        m_t[:, 0, 2], m_t[:, 1, 2] = -t[:, 2], -t[:, 3]
        transforms = m_r @ m_t @ self.transform.unsqueeze(0)
        freqs = self.freqs.unsqueeze(0)
        phases = self.phases.unsqueeze(0) + (freqs @ transforms[:, :2, 2:]).squeeze(2)
        return freqs @ transforms[:, :2, :2], phases

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """w0 [N, w_dim] -> features [N, C, size, size] (section 3.5 steps 6-9, op order [exact])."""
        freqs, phases = self._transformed_freqs(w)
        rolloff = self.sampling_rate / 2 - self.bandwidth
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth) / rolloff).clamp(0, 1)
        theta = torch.eye(2, 3, device=w.device)
        theta[0, 0] = 0.5 * self.size / self.sampling_rate
        theta[1, 1] = 0.5 * self.size / self.sampling_rate
        grid = F.affine_grid(theta.unsqueeze(0), [1, 1, self.size, self.size], align_corners=False)
        x = (grid.unsqueeze(3) @ freqs.permute(0, 2, 1).unsqueeze(1).unsqueeze(2)).squeeze(3)
        x = x + phases.unsqueeze(1).unsqueeze(2)
        x = torch.sin(x * (np.pi * 2))
        x = x * amplitudes.unsqueeze(1).unsqueeze(2)
        x = x @ (self.weight / np.sqrt(self.channels)).t()
        return x.permute(0, 3, 1, 2)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, size={self.size}, rate={self.sampling_rate:g}, bw={self.bandwidth:g}"


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> image [N, img_channels, res, res] (sections 3.3 and 3.6).

    Submodules `input`, then `L0_...` to `L{num_layers}_...` (ToRGB), named as in NVIDIA's files.
    """

    def __init__(self, cfg: SynthesisConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.w_dim, self.img_resolution, self.img_channels = cfg.w_dim, cfg.img_resolution, cfg.img_channels
        self.num_layers, self.num_critical = cfg.num_layers, cfg.num_critical
        self.num_ws = cfg.num_layers + 2
        self.margin_size, self.output_scale, self.num_fp16_res = cfg.margin_size, cfg.output_scale, cfg.num_fp16_res
        self.input = SynthesisInput(input_spec(cfg), cfg.w_dim)
        self.layer_names: list[str] = []
        for spec in layer_specs(cfg):
            self.add_module(spec.name, SynthesisLayer(spec, cfg.w_dim, cfg.conv_clamp, cfg.magnitude_ema_beta))
            self.layer_names.append(spec.name)

    def layers(self) -> list[SynthesisLayer]:
        """The synthesis layers L0 ... ToRGB, in order."""
        return [getattr(self, name) for name in self.layer_names]

    def forward(
        self,
        ws: torch.Tensor,
        noise_mode: str = "const",
        force_fp32: bool | None = None,
        update_emas: bool = False,
    ) -> torch.Tensor:
        """Run the input and all layers; `noise_mode` is validated and ignored (section 4).

        `force_fp32=None` means float32 on CPU and NVIDIA's float16 layers on CUDA.
        """
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must have shape [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        if force_fp32 is None:
            force_fp32 = ws.device.type != "cuda"
        w_list = ws.to(torch.float32).unbind(dim=1)
        x = self.input(w_list[0])
        for layer, w in zip(self.layers(), w_list[1:], strict=True):
            x = layer(x, w, force_fp32=force_fp32, update_emas=update_emas)
        return (x * self.output_scale).to(torch.float32).contiguous()
