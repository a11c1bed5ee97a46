"""Filter design and the filtered leaky ReLU, in plain PyTorch (stylegan3.md sections 3.4 and 3.6).

The filters of a trained network are stored as buffers and are always taken from the file; the design
functions here only build them for a freshly constructed network and cross-check the stored ones.

`upfirdn2d` and `filtered_lrelu_reference` follow the reference op order of section 3.6 step 4 (zero
insertion, pad/crop, separable filter horizontal then vertical, subsample), which reproduces NVIDIA's
CPU results bit for bit; `filtered_lrelu` runs the same maths much faster (`resample`), equal up to
float32 summation order.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from fedloom.generation.stylegan3 import resample

Padding = tuple[int, int, int, int]


def kaiser_beta(numtaps: int, width: float, fs: float) -> float:
    """Kaiser window beta for a transition band `width` at sample rate `fs` (section 3.4, step 1)."""
    atten = 2.285 * (numtaps - 1) * np.pi * (width / (fs / 2)) + 7.95
    if atten > 50:
        return float(0.1102 * (atten - 8.7))
    if atten > 21:
        return float(0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21))
    return 0.0


def design_lowpass(numtaps: int, cutoff: float, width: float, fs: float) -> torch.Tensor | None:
    """Separable Kaiser-windowed sinc low-pass with unit DC gain (section 3.4); None for 1 tap."""
    if numtaps == 1:
        return None
    rel_cutoff = cutoff / (fs / 2)
    m = np.arange(numtaps) - (numtaps - 1) / 2
    taps = rel_cutoff * np.sinc(rel_cutoff * m) * np.kaiser(numtaps, kaiser_beta(numtaps, width, fs))
    taps /= np.sum(taps)
    return torch.as_tensor(taps, dtype=torch.float32)


def design_radial_lowpass(numtaps: int, cutoff: float, width: float, fs: float) -> torch.Tensor | None:
    """2-D radially symmetric (jinc) Kaiser low-pass with unit DC gain (section 3.4); None for 1 tap."""
    if numtaps == 1:
        return None
    x = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    r = np.hypot(*np.meshgrid(x, x))
    arg = torch.as_tensor(2 * cutoff * (np.pi * r), dtype=torch.float64, device="cpu")
    j1 = torch.special.bessel_j1(arg).numpy()
    taps = j1 / (np.pi * r)
    window = np.kaiser(numtaps, kaiser_beta(numtaps, width, fs))
    taps *= np.outer(window, window)
    taps /= np.sum(taps)
    return torch.as_tensor(taps, dtype=torch.float32)


def _zero_insert(x: torch.Tensor, up: int, dim: int) -> torch.Tensor:
    """Upsample axis `dim` (2 = y, 3 = x) by zero insertion: x[i] goes to i * up, trailing zeros kept."""
    if up == 1:
        return x
    x = x.unsqueeze(dim + 1)
    x = F.pad(x, [0, up - 1] if dim == 3 else [0, 0, 0, up - 1])
    return x.flatten(dim, dim + 1)


def _pad_axis(x: torch.Tensor, lo: int, hi: int, dim: int) -> torch.Tensor:
    """Zero-pad axis `dim` by `lo` before and `hi` after; negative amounts crop."""
    pad = [max(lo, 0), max(hi, 0)]
    x = F.pad(x, pad if dim == 3 else [0, 0, *pad])
    return x.narrow(dim, max(-lo, 0), x.shape[dim] - max(-lo, 0) - max(-hi, 0))


def _conv_axis(x: torch.Tensor, taps: torch.Tensor, dim: int, stride: int) -> torch.Tensor:
    """Depthwise valid 1-D correlation with `taps` along axis `dim`, keeping every `stride`-th output."""
    channels = x.shape[1]
    weight = taps.reshape(1, 1, 1, -1) if dim == 3 else taps.reshape(1, 1, -1, 1)
    strides = (1, stride) if dim == 3 else (stride, 1)
    return F.conv2d(x, weight.repeat(channels, 1, 1, 1), stride=strides, groups=channels)


def _upfirdn2d_separable(
    x: torch.Tensor, f: torch.Tensor, up: int, down: int, padding: Padding, gain: float
) -> torch.Tensor:
    """Separable path: the full horizontal pass (zero insert, pad, filter) and then the vertical one.

    The horizontal pass skips the rows that vertical zero insertion would add: they are all zero and
    would stay zero, so the result is the same, bit for bit, as filtering the fully upsampled grid.
    """
    taps = (f * gain**0.5).to(x.dtype).flip(0)
    x_lo, x_hi, y_lo, y_hi = padding
    x = _conv_axis(_pad_axis(_zero_insert(x, up, 3), x_lo, x_hi, 3), taps, 3, down)
    return _conv_axis(_pad_axis(_zero_insert(x, up, 2), y_lo, y_hi, 2), taps, 2, down)


def _upfirdn2d_general(
    x: torch.Tensor, f: torch.Tensor | None, up: int, down: int, padding: Padding, gain: float
) -> torch.Tensor:
    """2-D filter (or identity) path: zero insert, pad/crop, 2-D true convolution, subsample."""
    x_lo, x_hi, y_lo, y_hi = padding
    x = _pad_axis(_zero_insert(x, up, 3), x_lo, x_hi, 3)
    x = _pad_axis(_zero_insert(x, up, 2), y_lo, y_hi, 2)
    if f is None:
        x = x * gain if gain != 1 else x
        return x[:, :, ::down, ::down] if down > 1 else x
    weight = (f * gain).to(x.dtype).flip([0, 1])
    return F.conv2d(x, weight[None, None].repeat(x.shape[1], 1, 1, 1), stride=down, groups=x.shape[1])


def upfirdn2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: int = 1,
    down: int = 1,
    padding: Padding = (0, 0, 0, 0),
    gain: float = 1.0,
) -> torch.Tensor:
    """Upsample, pad, FIR filter, downsample an NCHW tensor (section 3.6, steps 4.2-4.4 and 4.6-4.7).

    `f` is a 1-D (separable) or 2-D filter, or None for the identity; it is applied as a true
    convolution (taps flipped) over the valid region. `padding` is [x_lo, x_hi, y_lo, y_hi] (negative
    crops) and `gain` the total gain (a separable filter gets sqrt(gain) per pass). The filter is
    evaluated only at the samples that downsampling keeps (strided convolution).
    """
    if f is not None and f.ndim == 1:
        return _upfirdn2d_separable(x, f, up, down, padding, gain)
    return _upfirdn2d_general(x, f, up, down, padding, gain)


def filtered_lrelu(
    x: torch.Tensor,
    *,
    bias: torch.Tensor,
    up_filter: torch.Tensor | None,
    down_filter: torch.Tensor | None,
    up: int,
    down: int,
    padding: Padding,
    gain: float,
    slope: float,
    clamp: float | None,
) -> torch.Tensor:
    """Bias, upsample + filter, leaky ReLU, gain, clamp, then filter + downsample (section 3.6 step 4).

    Runs `resample.filtered_lrelu_fast` (transposed/strided convolutions on cache-sized tiles) for a 1-D
    up filter, bias + activation alone when there is nothing to resample (ToRGB), and the reference op
    order otherwise. The result is [N, C, H', W'], possibly viewing channels_last memory.
    """
    impl: Callable[..., torch.Tensor] = filtered_lrelu_reference
    if up_filter is not None and up_filter.ndim == 1 and down_filter is not None:
        impl = partial(resample.filtered_lrelu_fast, budget=resample.TILE_BYTES if x.device.type == "cpu" else None)
    elif up_filter is None and down_filter is None and up == down == 1 and tuple(padding) == (0, 0, 0, 0):
        return resample.activate(x + bias.to(x.dtype).reshape(1, -1, 1, 1), slope, gain, clamp)
    return impl(
        x,
        bias=bias,
        up_filter=up_filter,
        down_filter=down_filter,
        up=up,
        down=down,
        padding=padding,
        gain=gain,
        slope=slope,
        clamp=clamp,
    )


def filtered_lrelu_reference(
    x: torch.Tensor,
    *,
    bias: torch.Tensor,
    up_filter: torch.Tensor | None,
    down_filter: torch.Tensor | None,
    up: int,
    down: int,
    padding: Padding,
    gain: float,
    slope: float,
    clamp: float | None,
) -> torch.Tensor:
    """The reference op order of section 3.6 step 4, bit for bit: bias, upsample + filter, leaky ReLU,
    gain, clamp (on the upsampled grid, before the down filter [exact]), filter + downsample.
    """
    x = x + bias.to(x.dtype).reshape(1, -1, 1, 1)
    x = upfirdn2d(x, up_filter, up=up, padding=padding, gain=up**2)
    x = F.leaky_relu(x, slope)
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return upfirdn2d(x, down_filter, down=down)
