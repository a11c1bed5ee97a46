"""Small CNNs for 28- to 64-pixel inputs: HtFLlib's HCNNs8 family and the 4-layer CNN (FedAvgCNN).

Each model is 1 or 2 blocks of [5x5 conv (no padding, stride 1), 2x2 max-pool, ReLU] with 32 then 64
channels (pool-then-ReLU is HtFLlib's ReLU-then-pool function at a quarter of the ReLU work), a flatten,
optional hidden fully connected layers with ReLU, and a fully connected layer to the feature with ReLU.
That is the base; the head (added by the registry) is one Linear layer. Fully connected layers are
`StepLinear`, which can fold their SGD step into backward.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

from fedloom.errors import ConfigError
from fedloom.models._common import InputShape, check_input_shape
from fedloom.models.step_linear import StepLinear

CONV_CHANNELS = (32, 64)
KERNEL = 5
POOL = 2


def _spatial_after_convs(size: int, num_convs: int) -> int:
    for _ in range(num_convs):
        size = (size - KERNEL + 1) // POOL
    return size


def cnn_base(input_shape: InputShape, feature_dim: int, num_convs: int, hidden: Sequence[int]) -> nn.Sequential:
    """The base of a CNN with `num_convs` (1 or 2) conv blocks and `hidden` fully connected widths."""
    channels, height, width = check_input_shape(input_shape)
    if num_convs not in (1, 2):
        raise ConfigError(f"num_convs must be 1 or 2, got {num_convs}")
    out_h = _spatial_after_convs(height, num_convs)
    out_w = _spatial_after_convs(width, num_convs)
    if out_h < 1 or out_w < 1:
        raise ConfigError(f"input {channels}x{height}x{width} is too small for {num_convs} 5x5 conv + 2x2 pool blocks")
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    in_ch = channels
    for i, out_ch in enumerate(CONV_CHANNELS[:num_convs], start=1):
        layers[f"conv{i}"] = nn.Conv2d(in_ch, out_ch, KERNEL)
        layers[f"pool{i}"] = nn.MaxPool2d(POOL)  # pool before ReLU: the same function (max commutes with ReLU)
        layers[f"relu{i}"] = nn.ReLU(inplace=True)  # on a 4x smaller tensor
        in_ch = out_ch
    layers["flatten"] = nn.Flatten()
    in_dim = in_ch * out_h * out_w
    for i, width_i in enumerate([*hidden, feature_dim], start=1):
        layers[f"fc{i}"] = StepLinear(in_dim, width_i)
        layers[f"fc_relu{i}"] = nn.ReLU(inplace=True)
        in_dim = width_i
    return nn.Sequential(layers)


CNN_SPECS: dict[str, tuple[int, tuple[int, ...]]] = {
    # name: (convolutions, hidden widths); HCNNs8 order is the dict order.
    "cnn_c1": (1, ()),
    "cnn4": (2, ()),
    "cnn_c1_h512": (1, (512,)),
    "cnn_c2_h512": (2, (512,)),
    "cnn_c1_h1024": (1, (1024,)),
    "cnn_c2_h1024": (2, (1024,)),
    "cnn_c1_h1024_512": (1, (1024, 512)),
    "cnn_c2_h1024_512": (2, (1024, 512)),
}
"""The 8 HCNNs8 models in HtFLlib's order; `cnn4` (2 convs, no hidden layer) is the 4-layer CNN."""
