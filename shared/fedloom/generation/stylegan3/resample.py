"""Fast filtered leaky ReLU: transposed-conv up filter, strided down filter, cache-sized tiles (stylegan3.md 3.6).

The reference op order (`filters.filtered_lrelu_reference`) zero-inserts, filters the whole upsampled
grid and only then keeps every `down`-th sample of the down-filtered grid. Here:

- zero insertion + up filter is one strided transposed depthwise convolution per axis, so nothing is
  multiplied by an inserted zero;
- the down filter is a strided depthwise convolution, so only the kept samples are computed;
- on CPU the work runs on tiles of (channels x output rows) whose upsampled grid fits in cache, the few
  halo rows being recomputed, instead of on full-size temporaries that are slow to allocate and touch.

Tensors are folded to [1, N*C, H, W] in channels_last memory (pixel-major, then sample, then channel),
the layout of oneDNN's fast depthwise kernels. Only the summation order differs from the reference: a
legitimate reordering in the sense of section 4 (about 1e-6 on O(1) images).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

CHANNELS_LAST = torch.channels_last
TILE_BYTES = 16 << 20  # bytes of upsampled grid per CPU tile (half the L3 cache; below glibc's mmap threshold)
TILE_ROWS = 32  # fewest output rows per tile before the channels are split (halo rows are recomputed)
TILE_CHANNELS = 16  # channel split granularity: one AVX-512 vector per pixel in oneDNN's depthwise kernels


def fold_batch(x: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [1, N*C, H, W] in channels_last memory; a view if `x` came from `unfold_batch`."""
    n, c, h, w = x.shape
    return x.permute(2, 3, 0, 1).contiguous().view(1, h, w, n * c).permute(0, 3, 1, 2)


def unfold_batch(x: torch.Tensor, n: int) -> torch.Tensor:
    """[1, N*C, H, W] -> [N, C, H, W], a view."""
    return x.unflatten(1, (n, -1)).squeeze(0)


@dataclass(frozen=True)
class UpAxis:
    """Zero insertion, padding and up filter along one axis, as a transposed convolution.

    The reference computes y[m] = sum_i x[i] * f[m + K-1-lo - up*i] (section 3.6 steps 4.2-4.4). With
    `start` = ceil(-lo / up), the first input sample that reaches y[0], and `crop` = K-1-lo - up*start,
    y[m + up*q] = conv_transpose(x[start + q :], f, stride=up, padding=crop)[m]; `out_size` = len(y).
    """

    up: int
    taps: int
    start: int
    crop: int
    out_size: int

    def input_range(self, t0: int, t1: int) -> tuple[int, int]:
        """Input samples [a, b) (may reach outside x) whose transposed conv covers y[up*(t0 // up) : t1]."""
        q0 = t0 // self.up
        length = -(-(t1 - self.up * q0 + 2 * self.crop - self.taps) // self.up) + 1
        return self.start + q0, self.start + q0 + length


def up_axis(up: int, taps: int, lo: int, hi: int, in_size: int) -> UpAxis:
    """The UpAxis of an up filter with `taps` taps and padding [lo, hi] on an axis of `in_size` samples."""
    start = -(lo // up)
    return UpAxis(up, taps, start, taps - 1 - lo - up * start, in_size * up + lo + hi - taps + 1)


@dataclass(frozen=True)
class Plan:
    """The geometry one filtered_lrelu call shares between its tiles."""

    rows: UpAxis
    cols: UpAxis
    down: int
    down_taps: int
    out_size: tuple[int, int]

    def tile_shape(self, channels: int, itemsize: int, budget: int | None) -> tuple[int, int]:
        """Channels and output rows per tile: everything without a budget, else an upsampled grid of about
        `budget` bytes, splitting the channels (multiples of 16) only if a tile would have < TILE_ROWS rows."""
        height = self.out_size[0]
        if budget is None:
            return channels, height
        row_bytes = self.cols.out_size * itemsize
        fit = max(budget // (self.tmp_rows(min(TILE_ROWS, height)) * row_bytes), 1)
        chunks = -(-channels // fit)
        tile_channels = channels if chunks == 1 else -(-channels // chunks // TILE_CHANNELS) * TILE_CHANNELS
        rows = max((budget // (tile_channels * row_bytes) - self.down_taps) // self.down + 1, 1)
        return tile_channels, -(-height // -(-height // rows))

    def tmp_rows(self, out_rows: int) -> int:
        """Upsampled rows that `out_rows` output rows are filtered from."""
        return (out_rows - 1) * self.down + self.down_taps


def make_plan(
    x_size: tuple[int, int], up: int, up_taps: int, down: int, down_taps: int, padding: tuple[int, int, int, int]
) -> Plan:
    """Plan for an [.., H, W] input; `padding` is [x_lo, x_hi, y_lo, y_hi] as in the layer spec."""
    x_lo, x_hi, y_lo, y_hi = padding
    rows = up_axis(up, up_taps, y_lo, y_hi, x_size[0])
    cols = up_axis(up, up_taps, x_lo, x_hi, x_size[1])
    out_size = ((rows.out_size - down_taps) // down + 1, (cols.out_size - down_taps) // down + 1)
    return Plan(rows, cols, down, down_taps, out_size)


def _depthwise(taps: torch.Tensor, channels: int, dim: int, dtype: torch.dtype) -> torch.Tensor:
    """Depthwise weight [channels, 1, kh, kw] from 1-D taps along `dim` (2 = rows, 3 = cols) or 2-D taps."""
    shape = [1, 1, *taps.shape] if taps.ndim == 2 else [1, 1, -1, 1] if dim == 2 else [1, 1, 1, -1]
    return taps.to(dtype).reshape(shape).repeat(channels, 1, 1, 1)


@dataclass(frozen=True)
class _Job:
    """What every tile of one filtered_lrelu call shares; weights are for full tiles (slice [:c])."""

    x: torch.Tensor
    bias: torch.Tensor
    plan: Plan
    up_cols: torch.Tensor
    up_rows: torch.Tensor
    down: list[torch.Tensor]
    act: tuple[float, float, float | None]


def _make_job(
    x: torch.Tensor,
    bias: torch.Tensor,
    plan: Plan,
    filters: tuple[torch.Tensor, torch.Tensor],
    channels: int,
    act: tuple[float, float, float | None],
) -> _Job:
    """Weights: up filter with gain `up` per axis (and a positive activation gain folded into the vertical
    pass, leaky ReLU being positively homogeneous); down filter flipped for a true convolution."""
    up_filter, down_filter = filters
    slope, gain, clamp = act
    fold = gain if gain > 0 else 1.0
    up, dtype = plan.rows.up, x.dtype
    up_cols = _depthwise(up_filter * up, channels, 3, dtype)
    up_rows = _depthwise(up_filter * (up * fold), channels, 2, dtype)
    taps = down_filter.flip(list(range(down_filter.ndim)))
    down = (
        [_depthwise(taps, channels, 2, dtype)]
        if taps.ndim == 2
        else [_depthwise(taps, channels, 3, dtype), _depthwise(taps, channels, 2, dtype)]
    )
    return _Job(x, bias, plan, up_cols, up_rows, down, (slope, gain / fold, clamp))


def _gather(
    x: torch.Tensor, bias: torch.Tensor, chans: slice, rows: tuple[int, int], cols: tuple[int, int]
) -> torch.Tensor:
    """A new channels_last tile: (x + bias)[:, chans] over rows [r0, r1) x cols [c0, c1), zero outside x."""
    (r0, r1), (c0, c1) = rows, cols
    ra, ca = min(max(r0, 0), x.shape[2]), min(max(c0, 0), x.shape[3])
    rb, cb = max(min(r1, x.shape[2]), ra), max(min(c1, x.shape[3]), ca)
    src, b = x[:, chans, ra:rb, ca:cb], bias[chans].reshape(1, -1, 1, 1)
    if torch.is_grad_enabled() and (src.requires_grad or b.requires_grad):
        return F.pad(src + b, [ca - c0, c1 - cb, ra - r0, r1 - rb])  # autograd cannot write into `out=`
    shape = (1, src.shape[1], r1 - r0, c1 - c0)
    out = torch.empty(shape, dtype=x.dtype, device=x.device, memory_format=CHANNELS_LAST).zero_()
    torch.add(src, b, out=out[:, :, ra - r0 : rb - r0, ca - c0 : cb - c0])
    return out


def _upsample(x: torch.Tensor, axis: UpAxis, weight: torch.Tensor, dim: int) -> torch.Tensor:
    """Zero insertion + up filter along `dim` (2 = rows, 3 = cols) as a strided transposed convolution."""
    stride, crop = ((axis.up, 1), (axis.crop, 0)) if dim == 2 else ((1, axis.up), (0, axis.crop))
    return F.conv_transpose2d(x, weight, stride=stride, padding=crop, groups=x.shape[1])


def _downsample(x: torch.Tensor, weights: list[torch.Tensor], down: int) -> torch.Tensor:
    """Strided depthwise down filter: 2-D in one pass, or separable, horizontal first."""
    c = x.shape[1]
    if len(weights) == 1:
        return F.conv2d(x, weights[0], stride=down, groups=c)
    x = F.conv2d(x, weights[0], stride=(1, down), groups=c)
    return F.conv2d(x, weights[1], stride=(down, 1), groups=c)


def activate(x: torch.Tensor, slope: float, gain: float, clamp: float | None) -> torch.Tensor:
    """leaky_relu(slope), times gain, clamp (section 3.6 step 4.5); in place unless autograd needs x."""
    inplace = not (torch.is_grad_enabled() and x.requires_grad)
    if slope != 1:
        x = F.leaky_relu_(x, slope) if inplace else F.leaky_relu(x, slope)
    if gain != 1:
        x = x.mul_(gain) if inplace else x * gain
    if clamp is not None:
        x = x.clamp_(-clamp, clamp) if inplace else x.clamp(-clamp, clamp)
    return x


def _tile(job: _Job, chans: slice, out_rows: slice) -> torch.Tensor:
    """Output rows `out_rows` of channels `chans`: gather, upsample cols then rows, activate, downsample."""
    plan, c = job.plan, chans.stop - chans.start
    t0 = out_rows.start * plan.down
    t1 = t0 + plan.tmp_rows(out_rows.stop - out_rows.start)
    tile = _gather(job.x, job.bias, chans, plan.rows.input_range(t0, t1), plan.cols.input_range(0, plan.cols.out_size))
    tile = _upsample(tile, plan.cols, job.up_cols[:c], 3)
    tile = _upsample(tile, plan.rows, job.up_rows[:c], 2)
    skip = t0 % plan.rows.up
    tile = activate(tile[:, :, skip : skip + t1 - t0], *job.act)
    return _downsample(tile, [w[:c] for w in job.down], plan.down)


def filtered_lrelu_fast(
    x: torch.Tensor,
    *,
    bias: torch.Tensor,
    up_filter: torch.Tensor,
    down_filter: torch.Tensor,
    up: int,
    down: int,
    padding: tuple[int, int, int, int],
    gain: float,
    slope: float,
    clamp: float | None,
    budget: int | None = TILE_BYTES,
) -> torch.Tensor:
    """Same contract as `filters.filtered_lrelu` for a 1-D up filter and a 1-D or 2-D down filter.

    `x` is [N, C, H, W] in any layout; the result is [N, C, H', W'] viewing [1, N*C, H', W'] channels_last
    memory. `budget` bounds the upsampled bytes per tile (None: a single tile, e.g. on a GPU).
    """
    n, x = x.shape[0], fold_batch(x)
    plan = make_plan((x.shape[2], x.shape[3]), up, up_filter.shape[0], down, down_filter.shape[0], padding)
    tile_channels, tile_rows = plan.tile_shape(x.shape[1], x.element_size(), budget)
    bias = bias.to(x.dtype).repeat(n)
    job = _make_job(x, bias, plan, (up_filter, down_filter), tile_channels, (slope, gain, clamp))
    height, width = plan.out_size
    out = torch.empty((1, x.shape[1], height, width), dtype=x.dtype, device=x.device, memory_format=CHANNELS_LAST)
    for c0 in range(0, x.shape[1], tile_channels):
        chans = slice(c0, min(c0 + tile_channels, x.shape[1]))
        for r0 in range(0, height, tile_rows):
            rows = slice(r0, min(r0 + tile_rows, height))
            out[:, chans, rows].copy_(_tile(job, chans, rows)[:, :, :, :width])
    return unfold_batch(out, n)
