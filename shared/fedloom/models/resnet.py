"""Small ResNets (ResNet4/6/8/10): BasicBlock, one block per stage, 1 to 4 stages of widths 64..512.

ImageNet stem (7x7/2 conv, BN, ReLU, 3x3/2 max-pool) whatever the input size, as in HtFLlib; global
average pooling; the native feature (the last stage's width) is mapped to `feature_dim` by `feature_pool`.
Features are post-ReLU (non-negative).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from fedloom.errors import ConfigError
from fedloom.models._common import InputShape, check_input_shape, feature_pool

STAGE_WIDTHS = (64, 128, 256, 512)
STEM_WIDTH = 64


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN layers with an identity (or 1x1 conv + BN projection) shortcut, then ReLU."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_ch != out_ch:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


def init_resnet_(module: nn.Module) -> None:
    """He (fan-out) init for convolutions, BN at weight 1 / bias 0 (torchvision's ResNet rule)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def small_resnet_base(input_shape: InputShape, feature_dim: int, num_stages: int) -> nn.Sequential:
    """ResNet{2 + 2 * num_stages} base: stem, `num_stages` one-block stages, global pool, pool to K."""
    channels, _, _ = check_input_shape(input_shape)
    if not 1 <= num_stages <= len(STAGE_WIDTHS):
        raise ConfigError(f"num_stages must be 1..{len(STAGE_WIDTHS)}, got {num_stages}")
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        conv1=nn.Conv2d(channels, STEM_WIDTH, 7, stride=2, padding=3, bias=False),
        bn1=nn.BatchNorm2d(STEM_WIDTH),
        relu=nn.ReLU(inplace=True),
        maxpool=nn.MaxPool2d(3, stride=2, padding=1),
    )
    in_ch = STEM_WIDTH
    for i, width in enumerate(STAGE_WIDTHS[:num_stages]):
        layers[f"layer{i + 1}"] = BasicBlock(in_ch, width, stride=1 if i == 0 else 2)
        in_ch = width
    layers["avgpool"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten()
    layers["feature_pool"] = feature_pool(in_ch, feature_dim)
    base = nn.Sequential(layers)
    init_resnet_(base)
    return base


RESNET_STAGES: dict[str, int] = {"resnet4": 1, "resnet6": 2, "resnet8": 3, "resnet10": 4}
