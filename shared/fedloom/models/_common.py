"""Shared pieces of the model zoo: the builder signature, input checks and the pooling-to-K rule."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from fedloom.errors import ConfigError

InputShape = tuple[int, int, int]
"""(channels, height, width) of one input sample."""

BaseBuilder = Callable[[InputShape, int], nn.Module]
"""`builder(input_shape, feature_dim)` returns a base whose output is [n, feature_dim]."""


def check_input_shape(input_shape: InputShape) -> InputShape:
    """`input_shape` as a tuple of three positive ints, or a ConfigError."""
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(v, int) and v > 0 for v in shape):
        raise ConfigError(f"input_shape must be three positive ints (C, H, W), got {input_shape!r}")
    return (shape[0], shape[1], shape[2])


def feature_pool(native_dim: int, feature_dim: int) -> nn.Module:
    """Map a flattened [n, native_dim] feature to [n, feature_dim] without parameters (HtFLlib's rule).

    `AdaptiveAvgPool1d` on the 2-D tensor treats each sample as one channel: values are repeated when
    native_dim < feature_dim and windows are averaged when native_dim > feature_dim. Equal sizes need no op.
    """
    if native_dim == feature_dim:
        return nn.Identity()
    return nn.AdaptiveAvgPool1d(feature_dim)
