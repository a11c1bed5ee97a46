"""The synthesis layer schedule: cutoffs, sampling rates, sizes, channels (stylegan3.md section 3.3).

Everything here is computed in float64 with numpy, vectorised over the layers, so that the
sampling-rate tie at res = 256, layer 9 resolves the same way as in the published networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SynthesisConfig:
    """Hyper-parameters of the synthesis network; defaults as in stylegan3.md section 3.3."""

    w_dim: int
    img_resolution: int
    img_channels: int
    channel_base: int = 32768
    channel_max: int = 512
    num_layers: int = 14
    num_critical: int = 2
    first_cutoff: float = 2.0
    first_stopband: float = 2**2.1
    last_stopband_rel: float = 2**0.3
    margin_size: int = 10
    output_scale: float = 0.25
    num_fp16_res: int = 4
    conv_kernel: int = 3
    filter_size: int = 6
    lrelu_upsampling: int = 2
    use_radial_filters: bool = False
    conv_clamp: float | None = 256
    magnitude_ema_beta: float = 0.999


@dataclass(frozen=True)
class InputSpec:
    """Fourier-feature input (stylegan3.md section 3.5): square `size`, rates in cycles per unit."""

    channels: int
    size: int
    sampling_rate: float
    bandwidth: float


@dataclass(frozen=True)
class LayerSpec:
    """Everything that defines one SynthesisLayer (stylegan3.md sections 1.4 and 3.3)."""

    name: str
    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    in_sampling_rate: int
    out_sampling_rate: int
    tmp_sampling_rate: int
    in_cutoff: float
    out_cutoff: float
    in_half_width: float
    out_half_width: float
    is_torgb: bool
    is_critically_sampled: bool
    use_fp16: bool
    conv_kernel: int
    up_factor: int
    up_taps: int
    down_factor: int
    down_taps: int
    down_radial: bool
    padding: tuple[int, int, int, int]


@dataclass(frozen=True)
class _Curves:
    cutoffs: np.ndarray
    sampling_rates: np.ndarray
    half_widths: np.ndarray
    sizes: np.ndarray
    channels: np.ndarray


def _curves(cfg: SynthesisConfig) -> _Curves:
    """Per-layer cutoff, stopband, rate, half-width, size and channels, in float64 (section 3.3)."""
    res = cfg.img_resolution
    last_cutoff = res / 2
    last_stopband = last_cutoff * cfg.last_stopband_rel
    exponents = np.minimum(np.arange(cfg.num_layers + 1) / (cfg.num_layers - cfg.num_critical), 1)
    cutoffs = cfg.first_cutoff * (last_cutoff / cfg.first_cutoff) ** exponents
    stopbands = cfg.first_stopband * (last_stopband / cfg.first_stopband) ** exponents
    sampling_rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, res))))
    half_widths = np.maximum(stopbands, sampling_rates / 2) - cutoffs
    sizes = sampling_rates + cfg.margin_size * 2
    sizes[-2:] = res
    channels = np.rint(np.minimum((cfg.channel_base / 2) / cutoffs, cfg.channel_max))
    channels[-1] = cfg.img_channels
    return _Curves(cutoffs, sampling_rates, half_widths, sizes, channels)


def input_spec(cfg: SynthesisConfig) -> InputSpec:
    """The SynthesisInput parameters: layer-0 channels, size, rate and cutoff (section 3.3)."""
    c = _curves(cfg)
    return InputSpec(int(c.channels[0]), int(c.sizes[0]), float(c.sampling_rates[0]), float(c.cutoffs[0]))


def _padding(in_size: int, out_size: int, k: int, up: int, down: int, taps: int) -> tuple[int, int]:
    """Low/high padding on one axis so that the filtered output has `out_size` samples (section 3.3)."""
    total = (out_size - 1) * down + 1 - (in_size + k - 1) * up + taps - 2
    lo = (total + up) // 2
    return lo, total - lo


def layer_specs(cfg: SynthesisConfig) -> list[LayerSpec]:
    """The L0 ... L{num_layers} layer specs, ToRGB last (section 3.3)."""
    curves = _curves(cfg)
    return [_layer_spec(cfg, curves, idx) for idx in range(cfg.num_layers + 1)]


def _layer_spec(cfg: SynthesisConfig, c: _Curves, idx: int) -> LayerSpec:
    """Layer `idx`: input from layer max(idx - 1, 0), output at layer idx (section 3.3)."""
    prev = max(idx - 1, 0)
    is_torgb = idx == cfg.num_layers
    in_rate, out_rate = int(c.sampling_rates[prev]), int(c.sampling_rates[idx])
    tmp_rate = max(in_rate, out_rate) * (1 if is_torgb else cfg.lrelu_upsampling)
    up, down = int(np.rint(tmp_rate / in_rate)), int(np.rint(tmp_rate / out_rate))
    up_taps = cfg.filter_size * up if up > 1 and not is_torgb else 1
    down_taps = cfg.filter_size * down if down > 1 and not is_torgb else 1
    critical = idx >= cfg.num_layers - cfg.num_critical
    k = 1 if is_torgb else cfg.conv_kernel
    in_size, out_size = int(c.sizes[prev]), int(c.sizes[idx])
    lo, hi = _padding(in_size, out_size, k, up, down, up_taps + down_taps)
    return LayerSpec(
        name=f"L{idx}_{out_size}_{int(c.channels[idx])}",
        in_channels=int(c.channels[prev]),
        out_channels=int(c.channels[idx]),
        in_size=in_size,
        out_size=out_size,
        in_sampling_rate=in_rate,
        out_sampling_rate=out_rate,
        tmp_sampling_rate=tmp_rate,
        in_cutoff=float(c.cutoffs[prev]),
        out_cutoff=float(c.cutoffs[idx]),
        in_half_width=float(c.half_widths[prev]),
        out_half_width=float(c.half_widths[idx]),
        is_torgb=is_torgb,
        is_critically_sampled=critical,
        use_fp16=bool(out_rate * 2**cfg.num_fp16_res > cfg.img_resolution),
        conv_kernel=k,
        up_factor=up,
        up_taps=up_taps,
        down_factor=down,
        down_taps=down_taps,
        down_radial=cfg.use_radial_filters and not critical,
        padding=(lo, hi, lo, hi),
    )
