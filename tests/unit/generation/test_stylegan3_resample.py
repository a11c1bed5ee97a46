"""The fast filtered leaky ReLU (stylegan3/resample.py) against the reference op order (stylegan3.md 3.6, 4)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from fedloom.generation.stylegan3 import resample
from fedloom.generation.stylegan3.filters import design_lowpass, filtered_lrelu, filtered_lrelu_reference, upfirdn2d
from fedloom.generation.stylegan3.layers import _down_filter, _up_filter
from fedloom.generation.stylegan3.schedule import LayerSpec, SynthesisConfig, layer_specs

T512 = SynthesisConfig(w_dim=512, img_resolution=512, img_channels=3)
T64 = SynthesisConfig(w_dim=64, img_resolution=64, img_channels=3)
R256 = SynthesisConfig(w_dim=512, img_resolution=256, img_channels=3, conv_kernel=1, use_radial_filters=True)
# (config, layer): up 2 / up 4, positive and negative padding, separable and radial (2-D) down filters.
LAYERS = {
    "T512_L0": (T512, 0),
    "T512_L2": (T512, 2),
    "T64_L13": (T64, 13),
    "R256_L0": (R256, 0),
    "R256_L3": (R256, 3),
}


def _inputs(spec: LayerSpec, channels: int, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """A conv output of the layer's size (scaled so that the clamp at 256 bites) and a bias."""
    gen = torch.Generator().manual_seed(spec.up_factor * 100 + spec.in_size)
    size = spec.in_size + spec.conv_kernel - 1
    x = torch.randn(batch, channels, size, size, generator=gen) * 200
    return x, torch.randn(channels, generator=gen)


def _kwargs(spec: LayerSpec) -> dict[str, Any]:
    return {
        "up_filter": _up_filter(spec),
        "down_filter": _down_filter(spec),
        "up": spec.up_factor,
        "down": spec.down_factor,
        "padding": spec.padding,
        "gain": 2**0.5,
        "slope": 0.2,
        "clamp": 256.0,
    }


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("budget", [None, 64 << 10])
def test_fast_matches_reference(layer: str, budget: int | None) -> None:
    """One tile, and many tiles (channels split in 16s, row bands with recomputed halos)."""
    cfg, idx = LAYERS[layer]
    spec = layer_specs(cfg)[idx]
    x, bias = _inputs(spec, channels=20)
    expected = filtered_lrelu_reference(x, bias=bias, **_kwargs(spec))
    actual = resample.filtered_lrelu_fast(x, bias=bias, **_kwargs(spec), budget=budget)
    assert actual.shape == expected.shape == (2, 20, spec.out_size, spec.out_size)
    torch.testing.assert_close(actual, expected, atol=1e-6 * 256, rtol=1e-5)  # values up to the clamp, 256
    unclamped = filtered_lrelu_reference(x, bias=bias, **{**_kwargs(spec), "clamp": None})
    assert (unclamped - expected).abs().max() > 1  # the clamp at 256 is exercised


def test_dispatch_runs_fast_path_and_torgb_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = layer_specs(T512)[0]
    x, bias = _inputs(spec, channels=4)
    calls: list[int | None] = []
    fast = resample.filtered_lrelu_fast

    def spy(*args: Any, **kwargs: Any) -> torch.Tensor:
        calls.append(kwargs["budget"])
        return fast(*args, **kwargs)

    monkeypatch.setattr(resample, "filtered_lrelu_fast", spy)
    filtered_lrelu(x, bias=bias, **_kwargs(spec))
    assert calls == [resample.TILE_BYTES]
    torgb: dict[str, Any] = {"up_filter": None, "down_filter": None, "up": 1, "down": 1, "padding": (0, 0, 0, 0)}
    args: dict[str, Any] = {"gain": 1.0, "slope": 1.0, "clamp": 256.0}
    actual = filtered_lrelu(x, bias=bias, **torgb, **args)
    assert torch.equal(actual, filtered_lrelu_reference(x, bias=bias, **torgb, **args))
    assert calls == [resample.TILE_BYTES]


@pytest.mark.parametrize(("up", "taps", "lo", "hi"), [(2, 12, 9, 8), (4, 24, -6, -9), (2, 12, -11, -12), (3, 7, 5, 1)])
def test_up_axis_transposed_conv_equals_zero_insertion(up: int, taps: int, lo: int, hi: int) -> None:
    """Any band [t0, t1) of the upsampled axis, from the input range the plan asks for."""
    f = design_lowpass(taps, 3.0, 4.0, 16.0)
    assert f is not None
    x = torch.randn(1, 1, 1, 40, dtype=torch.float64)
    expected = upfirdn2d(x, f.double()[None], up=up, padding=(lo, hi, 0, 0), gain=up)[0, 0, 0]  # 1 x K filter
    axis = resample.up_axis(up, taps, lo, hi, 40)
    assert axis.out_size == expected.numel()
    for t0, t1 in [(0, axis.out_size), (5, 17), (up, 2 * up + 1), (axis.out_size - 3, axis.out_size)]:
        a, b = axis.input_range(t0, t1)
        band = F.pad(x[..., max(a, 0) : min(b, 40)], [max(-a, 0), max(b - 40, 0)])
        w = (f.double() * up).reshape(1, 1, 1, -1)
        y = F.conv_transpose2d(band, w, stride=(1, up), padding=(0, axis.crop))[0, 0, 0]
        skip = t0 % up
        torch.testing.assert_close(y[skip : skip + t1 - t0], expected[t0:t1], atol=1e-12, rtol=0)


def test_fold_batch_round_trip_is_a_view() -> None:
    x = torch.randn(3, 5, 4, 6)
    folded = resample.fold_batch(x)
    assert folded.shape == (1, 15, 4, 6) and folded.is_contiguous(memory_format=torch.channels_last)
    back = resample.unfold_batch(folded, 3)
    assert torch.equal(back, x)
    again = resample.fold_batch(back)
    assert again.data_ptr() == folded.data_ptr() and again.stride() == folded.stride()


def test_fast_path_gradients_match_reference() -> None:
    spec = layer_specs(T512)[2]
    x, bias = _inputs(spec, channels=3, batch=1)
    x = (x / 200).requires_grad_(True)
    grads: list[torch.Tensor] = []
    for fn in (filtered_lrelu_reference, filtered_lrelu):
        x.grad = None
        fn(x, bias=bias, **_kwargs(spec)).square().sum().backward()
        assert x.grad is not None
        grads.append(x.grad.clone())
    torch.testing.assert_close(grads[1], grads[0], atol=1e-4, rtol=1e-5)
