"""Client models: a base (feature extractor ending in a `feature_dim` vector) plus a linear head.

Groups (client i gets architecture i mod n):
- `hcnn8`: HtFLlib's 8 small CNNs (1 or 2 conv blocks, 0-2 hidden FC layers); any C x H x W from 28 px up.
- `cnn4`: the 4-layer CNN (FedAvgCNN) for every client.
- `cpu4`: cnn4, ResNet4, ResNet6, ResNet8 (sized for 2 CPU cores on 3x32x32).
- `htfe2` / `htfe3` / `htfe8`: HtFLlib's HtFE-img-2/3/8 (torchvision GoogLeNet, MobileNetV2, ResNets);
  GPU-sized.
"""

from fedloom.models.base import BaseHeadModel
from fedloom.models.registry import (
    ARCHITECTURES,
    MODEL_GROUPS,
    Architecture,
    build_client_model,
    build_model,
    client_architecture,
    count_parameters,
    group_architectures,
    group_names,
)

__all__ = [
    "ARCHITECTURES",
    "MODEL_GROUPS",
    "Architecture",
    "BaseHeadModel",
    "build_client_model",
    "build_model",
    "client_architecture",
    "count_parameters",
    "group_architectures",
    "group_names",
]
