"""Architectures and model groups by name; client i of a group gets architecture i mod n."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType

import torch
from torch import nn

from fedloom.errors import ConfigError
from fedloom.models._common import BaseBuilder, InputShape, check_input_shape
from fedloom.models.base import BaseHeadModel
from fedloom.models.cnn import CNN_SPECS, cnn_base
from fedloom.models.resnet import RESNET_STAGES, small_resnet_base
from fedloom.models.step_linear import StepLinear
from fedloom.models.zoo import googlenet_base, mobilenet_v2_base, resnet_base


@dataclass(frozen=True)
class Architecture:
    """A named base builder: `arch(input_shape, feature_dim)` returns the base ([n, feature_dim] out)."""

    name: str
    build: BaseBuilder

    def __call__(self, input_shape: InputShape, feature_dim: int) -> nn.Module:
        return self.build(input_shape, feature_dim)


def _architectures() -> dict[str, Architecture]:
    builders: dict[str, BaseBuilder] = {}
    for name, (convs, hidden) in CNN_SPECS.items():
        builders[name] = partial(cnn_base, num_convs=convs, hidden=hidden)
    for name, stages in RESNET_STAGES.items():
        builders[name] = partial(small_resnet_base, num_stages=stages)
    for depth in (18, 34, 50, 101, 152):
        builders[f"resnet{depth}"] = partial(resnet_base, depth=depth)
    builders["googlenet"] = googlenet_base
    builders["mobilenet_v2"] = mobilenet_v2_base
    return {name: Architecture(name, build) for name, build in builders.items()}


ARCHITECTURES: Mapping[str, Architecture] = MappingProxyType(_architectures())
"""Every architecture by name."""

_GROUP_ARCHS: dict[str, tuple[str, ...]] = {
    "hcnn8": tuple(CNN_SPECS),
    "cnn4": ("cnn4",),
    "cpu4": ("cnn4", "resnet4", "resnet6", "resnet8"),
    "htfe2": ("cnn4", "resnet18"),
    "htfe3": ("resnet10", "resnet18", "resnet34"),
    "htfe8": (
        "cnn4",
        "googlenet",
        "mobilenet_v2",
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
    ),
}

MODEL_GROUPS: Mapping[str, tuple[Architecture, ...]] = MappingProxyType(
    {group: tuple(ARCHITECTURES[a] for a in archs) for group, archs in _GROUP_ARCHS.items()}
)
"""Group name -> its architectures in client order (client i gets entry i mod n)."""

_GROUP_ALIASES: Mapping[str, str] = MappingProxyType(
    {"HCNNs8": "hcnn8", "HtFE2": "htfe2", "HtFE-img-2": "htfe2", "HtFE3": "htfe3", "HtFE-img-3": "htfe3"}
    | {"HtFE8": "htfe8", "HtFE-img-8": "htfe8"}
)
"""HtFLlib's names (legacy and current) for the groups that match theirs."""


def group_names() -> list[str]:
    return sorted(MODEL_GROUPS)


def _group(group: str) -> tuple[Architecture, ...]:
    archs = MODEL_GROUPS.get(_GROUP_ALIASES.get(group, group))
    if archs is None:
        raise ConfigError(f"unknown model group {group!r}; choose one of {', '.join(group_names())}")
    return archs


def group_architectures(group: str) -> list[str]:
    """The architecture names of `group` in client order, or a ConfigError listing the known groups."""
    return [arch.name for arch in _group(group)]


def _check_sizes(num_classes: int, feature_dim: int) -> None:
    if num_classes < 1:
        raise ConfigError(f"num_classes must be >= 1, got {num_classes}")
    if feature_dim < 1:
        raise ConfigError(f"feature_dim must be >= 1, got {feature_dim}")


def build_model(arch: str, input_shape: InputShape, num_classes: int, feature_dim: int = 512) -> BaseHeadModel:
    """Architecture `arch` as base + head `Linear(feature_dim, num_classes)` (no activation after it).

    Convolution weights are kept channels-last (NHWC): oneDNN's convolutions and max-pooling run several
    times faster in that layout on CPUs, and the model computes the same function.
    """
    architecture = ARCHITECTURES.get(arch)
    if architecture is None:
        raise ConfigError(f"unknown architecture {arch!r}; choose one of {', '.join(sorted(ARCHITECTURES))}")
    _check_sizes(num_classes, feature_dim)
    base = architecture(check_input_shape(input_shape), feature_dim)
    model = BaseHeadModel(base, StepLinear(feature_dim, num_classes), feature_dim, architecture.name)
    return model.to(memory_format=torch.channels_last)


def client_architecture(group: str, client_index: int) -> str:
    """The architecture of client `client_index` in `group`: member `client_index mod len(group)`."""
    archs = _group(group)
    if client_index < 0:
        raise ConfigError(f"client_index must be >= 0, got {client_index}")
    return archs[client_index % len(archs)].name


def build_client_model(
    group: str, client_index: int, input_shape: InputShape, num_classes: int, feature_dim: int = 512
) -> BaseHeadModel:
    """Client `client_index`'s model: `client_architecture(group, client_index)`.

    Initialisation draws from the global torch RNG; seed it before building for reproducible models.
    """
    return build_model(client_architecture(group, client_index), input_shape, num_classes, feature_dim)


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (trainable or not) of `module`."""
    return sum(p.numel() for p in module.parameters())
