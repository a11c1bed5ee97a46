"""Fully connected layer, modulated convolution and SynthesisLayer (stylegan3.md sections 3.1 and 3.6).

Module, parameter and buffer names follow NVIDIA's state_dict keys (section 1.4) so that a state_dict
read from a network file loads as-is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fedloom.generation.stylegan3.filters import design_lowpass, design_radial_lowpass, filtered_lrelu
from fedloom.generation.stylegan3.resample import fold_batch, unfold_batch
from fedloom.generation.stylegan3.schedule import LayerSpec

_LRELU_SLOPE = 0.2
_LRELU_GAIN = float(np.sqrt(2))


class FullyConnectedLayer(nn.Module):
    """Linear or leaky-ReLU layer with equalised learning rate (section 3.1).

    Parameters are stored unscaled; `weight_gain` = lr_multiplier / sqrt(in_features) and
    `bias_gain` = lr_multiplier are applied at run time.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: str = "linear",
        lr_multiplier: float = 1.0,
        weight_init: float = 1.0,
        bias_init: float | Sequence[float] = 0.0,
    ) -> None:
        super().__init__()
        if activation not in ("linear", "lrelu"):
            raise ValueError(f"activation must be 'linear' or 'lrelu', got {activation!r}")
        self.in_features, self.out_features, self.activation = in_features, out_features, activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * (weight_init / lr_multiplier))
        bias = torch.broadcast_to(torch.as_tensor(bias_init, dtype=torch.float32), [out_features])
        self.bias = nn.Parameter(bias / lr_multiplier)
        self.weight_gain = float(lr_multiplier / np.sqrt(in_features))
        self.bias_gain = float(lr_multiplier)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """addmm for 'linear'; matmul, + bias, leaky ReLU(0.2), x sqrt(2) for 'lrelu' (section 3.1)."""
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias.to(x.dtype)
        if self.bias_gain != 1:
            b = b * self.bias_gain
        if self.activation == "linear":
            return torch.addmm(b.unsqueeze(0), x, w.t())
        x = x.matmul(w.t()) + b.unsqueeze(0)
        return F.leaky_relu(x, _LRELU_SLOPE) * _LRELU_GAIN

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, activation={self.activation}"


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    *,
    padding: int,
    demodulate: bool,
    input_gain: torch.Tensor,
) -> torch.Tensor:
    """Per-sample modulated (and optionally demodulated) convolution (section 3.6 step 3) [exact order].

    Styles are pre-normalised by their RMS over the whole [N, C_in] batch; the input gain is applied
    after demodulation. Runs as one grouped conv2d in `x.dtype` on [1, N*C_in, H, W] channels_last memory
    (`resample.fold_batch`); weights are prepared in float32. Returns [N, C_out, H', W'] viewing that layout.
    """
    n = x.shape[0]
    out_c, in_c, kh, kw = weight.shape
    if demodulate:
        weight = weight * weight.square().mean(dim=[1, 2, 3], keepdim=True).rsqrt()
        styles = styles * styles.square().mean().rsqrt()
    w = weight.unsqueeze(0) * styles.reshape(n, 1, in_c, 1, 1)
    if demodulate:
        w = w * (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt().reshape(n, out_c, 1, 1, 1)
    w = w * input_gain
    x = F.conv2d(fold_batch(x), w.reshape(n * out_c, in_c, kh, kw).to(x.dtype), padding=padding, groups=n)
    return unfold_batch(x, n)


def fp16_available(device: torch.device) -> bool:
    """Whether layers marked use_fp16 may run in float16 on `device` (section 4: CUDA only)."""
    return device.type == "cuda"


class SynthesisLayer(nn.Module):
    """One synthesis layer: affine -> modulated conv -> filtered leaky ReLU (section 3.6)."""

    magnitude_ema: torch.Tensor
    up_filter: torch.Tensor | None
    down_filter: torch.Tensor | None

    def __init__(self, spec: LayerSpec, w_dim: int, conv_clamp: float | None, magnitude_ema_beta: float) -> None:
        super().__init__()
        self.spec = spec
        self.w_dim, self.is_torgb, self.use_fp16 = w_dim, spec.is_torgb, spec.use_fp16
        self.in_channels, self.out_channels = spec.in_channels, spec.out_channels
        self.conv_kernel, self.conv_clamp, self.magnitude_ema_beta = spec.conv_kernel, conv_clamp, magnitude_ema_beta
        self.affine = FullyConnectedLayer(w_dim, spec.in_channels, bias_init=1.0)
        k = spec.conv_kernel
        self.weight = nn.Parameter(torch.randn(spec.out_channels, spec.in_channels, k, k))
        self.bias = nn.Parameter(torch.zeros(spec.out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))
        self.register_buffer("up_filter", _up_filter(spec))
        self.register_buffer("down_filter", _down_filter(spec))

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, force_fp32: bool = True, update_emas: bool = False
    ) -> torch.Tensor:
        """Input gain, styles, modulated conv, filtered leaky ReLU (section 3.6 steps 1-4).

        Runs in float16 only for layers marked use_fp16, on CUDA, when not `force_fp32` (section 4).
        `update_emas` (training only) first folds mean(x^2) into `magnitude_ema`.
        """
        spec = self.spec
        expected = (self.in_channels, spec.in_size, spec.in_size)
        if tuple(x.shape[1:]) != expected:
            raise ValueError(f"{spec.name}: expected input [N, {expected}], got {list(x.shape)}")
        if update_emas:
            with torch.no_grad():
                magnitude = x.detach().to(torch.float32).square().mean()
                self.magnitude_ema.copy_(magnitude.lerp(self.magnitude_ema, self.magnitude_ema_beta))
        input_gain = self.magnitude_ema.rsqrt()
        styles = self.affine(w)
        if self.is_torgb:
            styles = styles * float(1 / np.sqrt(self.in_channels * self.conv_kernel**2))
        dtype = torch.float16 if self.use_fp16 and not force_fp32 and fp16_available(x.device) else torch.float32
        x = modulated_conv2d(
            x.to(dtype),
            self.weight,
            styles,
            padding=self.conv_kernel - 1,
            demodulate=not self.is_torgb,
            input_gain=input_gain,
        )
        return filtered_lrelu(
            x,
            bias=self.bias,
            up_filter=self.up_filter,
            down_filter=self.down_filter,
            up=spec.up_factor,
            down=spec.down_factor,
            padding=spec.padding,
            gain=1.0 if self.is_torgb else _LRELU_GAIN,
            slope=1.0 if self.is_torgb else _LRELU_SLOPE,
            clamp=self.conv_clamp,
        )

    def extra_repr(self) -> str:
        s = self.spec
        return (
            f"{s.in_channels}->{s.out_channels}, size {s.in_size}->{s.out_size}, "
            f"rate {s.in_sampling_rate}->{s.out_sampling_rate}, up {s.up_factor}, down {s.down_factor}"
        )


def _up_filter(spec: LayerSpec) -> torch.Tensor | None:
    """Separable up filter at the layer's input cutoff (section 3.4)."""
    return design_lowpass(spec.up_taps, spec.in_cutoff, spec.in_half_width * 2, spec.tmp_sampling_rate)


def _down_filter(spec: LayerSpec) -> torch.Tensor | None:
    """Down filter at the output cutoff: radial in non-critical -R layers, else separable (section 3.4)."""
    design = design_radial_lowpass if spec.down_radial else design_lowpass
    return design(spec.down_taps, spec.out_cutoff, spec.out_half_width * 2, spec.tmp_sampling_rate)
