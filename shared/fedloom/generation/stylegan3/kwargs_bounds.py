"""Sane ranges for a network file's init_kwargs, checked before anything is built from them.

A Generator allocates its weights in its constructor, so a file claiming a million channels or layers would
make the loader allocate gigabytes before any weight of the file is read. The ranges hold every StyleGAN3
configuration NVIDIA trains (T and R, 256 to 1024 pixels, conditional or not) with room to spare.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedloom.generation.stylegan3.errors import NetworkFormatError
from fedloom.generation.stylegan3.schedule import SynthesisConfig, layer_specs

MAX_CONV_WEIGHTS = 200_000_000
"""StyleGAN3-R at 1024 pixels has about 16 million synthesis weights; ten times that is plenty."""

INT_RANGES: dict[str, tuple[int, int]] = {
    "z_dim": (1, 4096),
    "w_dim": (1, 4096),
    "c_dim": (0, 100_000),
    "img_resolution": (4, 4096),
    "img_channels": (1, 4),
    "channel_base": (1, 1 << 20),
    "channel_max": (1, 4096),
    "num_layers": (1, 64),
    "num_critical": (0, 16),
    "margin_size": (0, 64),
    "num_fp16_res": (0, 16),
    "conv_kernel": (1, 9),
    "filter_size": (1, 64),
    "lrelu_upsampling": (1, 8),
}
MAPPING_INT_RANGES = {"num_layers": (1, 32)}


def _check_ints(where: str, kwargs: Mapping[str, Any], ranges: Mapping[str, tuple[int, int]]) -> None:
    for name, (low, high) in ranges.items():
        if name not in kwargs:
            continue
        value = kwargs[name]
        if type(value) is not int or not low <= value <= high:
            raise NetworkFormatError(f"{where}{name} = {value!r} is outside the supported range [{low}, {high}]")


def check_init_kwargs(kwargs: Mapping[str, Any]) -> None:
    """NetworkFormatError for a size outside its range; names and the rest are checked when building."""
    _check_ints("init_kwargs.", kwargs, INT_RANGES)
    resolution = kwargs.get("img_resolution")
    if type(resolution) is int and resolution & (resolution - 1):
        raise NetworkFormatError(f"init_kwargs.img_resolution = {resolution} is not a power of two")
    mapping = kwargs.get("mapping_kwargs") or {}
    if not isinstance(mapping, Mapping):
        raise NetworkFormatError("init_kwargs.mapping_kwargs must be a mapping")
    _check_ints("init_kwargs.mapping_kwargs.", mapping, MAPPING_INT_RANGES)
    check_synthesis_size(kwargs)


def check_synthesis_size(kwargs: Mapping[str, Any]) -> None:
    """The synthesis layers' weight count, from the layer schedule alone (nothing allocated)."""
    names = {f for f in SynthesisConfig.__dataclass_fields__ if f in kwargs}
    try:
        cfg = SynthesisConfig(**{name: kwargs[name] for name in names})
        weights = sum(s.in_channels * s.out_channels * s.conv_kernel**2 for s in layer_specs(cfg))
    except Exception as exc:  # a combination the schedule cannot lay out
        raise NetworkFormatError(f"init_kwargs do not describe a StyleGAN3 synthesis network: {exc}") from exc
    if weights > MAX_CONV_WEIGHTS:
        raise NetworkFormatError(f"init_kwargs describe {weights:,} synthesis weights, over {MAX_CONV_WEIGHTS:,}")
