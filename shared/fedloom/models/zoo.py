"""GPU-sized bases from torchvision constructors (random init): GoogLeNet, MobileNetV2, ResNet18..152.

The classifier is replaced inside the model by `feature_pool` (no extra linear layer), so the model maps
an image to [n, feature_dim]. GoogLeNet is built without auxiliary logits; GoogLeNet and MobileNetV2 keep
their dropout before the (replaced) classifier, as in HtFLlib. When the input does not have 3 channels
the first convolution is rebuilt for the input's channel count (and initialised by the model's own rule).
torchvision is imported lazily: importing it costs about a second that CNN-only runs should not pay.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from fedloom.models._common import InputShape, check_input_shape, feature_pool

Init = Callable[[nn.Conv2d], None]


def _he_fan_out(conv: nn.Conv2d) -> None:
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def _trunc_normal(conv: nn.Conv2d) -> None:
    nn.init.trunc_normal_(conv.weight, mean=0.0, std=0.01, a=-2.0, b=2.0)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def _adapt_first_conv(parent: nn.Module, name: str, channels: int, init: Init) -> None:
    """Replace `parent.<name>` (a Conv2d) by the same convolution taking `channels` input channels."""
    old = parent.get_submodule(name)
    assert isinstance(old, nn.Conv2d)
    if old.in_channels == channels:
        return
    new = nn.Conv2d(
        channels,
        old.out_channels,
        old.kernel_size,  # type: ignore[arg-type]
        stride=old.stride,  # type: ignore[arg-type]
        padding=old.padding,  # type: ignore[arg-type]
        bias=old.bias is not None,
    )
    init(new)
    parent.register_module(name, new)


def resnet_base(input_shape: InputShape, feature_dim: int, depth: int) -> nn.Module:
    """torchvision ResNet-`depth` (18, 34, 50, 101, 152) with `fc` replaced by the pool to K."""
    from torchvision.models import resnet

    channels, _, _ = check_input_shape(input_shape)
    ctor = {
        18: resnet.resnet18,
        34: resnet.resnet34,
        50: resnet.resnet50,
        101: resnet.resnet101,
        152: resnet.resnet152,
    }
    model = ctor[depth](weights=None, num_classes=1)
    native = model.fc.in_features
    model.register_module("fc", feature_pool(native, feature_dim))
    _adapt_first_conv(model, "conv1", channels, _he_fan_out)
    return model


def googlenet_base(input_shape: InputShape, feature_dim: int) -> nn.Module:
    """torchvision GoogLeNet (no aux logits, no input transform) with `fc` replaced by the pool to K."""
    from torchvision.models import GoogLeNet

    channels, _, _ = check_input_shape(input_shape)
    model = GoogLeNet(num_classes=1, aux_logits=False, transform_input=False, init_weights=True)
    native = model.fc.in_features
    model.register_module("fc", feature_pool(native, feature_dim))
    _adapt_first_conv(model.conv1, "conv", channels, _trunc_normal)
    return model


def mobilenet_v2_base(input_shape: InputShape, feature_dim: int) -> nn.Module:
    """torchvision MobileNetV2 with the classifier's Linear replaced by the pool to K (dropout kept)."""
    from torchvision.models import mobilenet_v2

    channels, _, _ = check_input_shape(input_shape)
    model = mobilenet_v2(weights=None, num_classes=1)
    classifier = model.classifier
    linear = classifier[-1]
    assert isinstance(linear, nn.Linear)
    classifier[-1] = feature_pool(linear.in_features, feature_dim)
    _adapt_first_conv(model.features[0], "0", channels, _he_fan_out)
    return model
