"""GPU-sized groups. Every architecture is built on the meta device (no memory, no init cost) for its
parameter count and output shape; the distinct torchvision code paths also run one real forward."""

from __future__ import annotations

import pytest
import torch

from fedloom.models import build_client_model, build_model, count_parameters, group_architectures

HTFE8 = group_architectures("htfe8")

# algorithms.md section 2.3: total parameters with K=512, C=10 on 3x32x32 input.
HTFE_COUNTS = {
    "cnn4": 878_538,
    "googlenet": 5_605_034,
    "mobilenet_v2": 2_229_002,
    "resnet10": 4_910_922,
    "resnet18": 11_181_642,
    "resnet34": 21_289_802,
    "resnet50": 23_513_162,
    "resnet101": 42_505_290,
    "resnet152": 58_148_938,
}


def test_htfe8_order() -> None:
    assert HTFE8 == [
        "cnn4",
        "googlenet",
        "mobilenet_v2",
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
    ]


@pytest.mark.parametrize("arch", sorted(HTFE_COUNTS))
def test_param_count_and_shape_on_meta(arch: str) -> None:
    with torch.device("meta"):
        model = build_model(arch, (3, 32, 32), 10).eval()
        logits = model(torch.empty(2, 3, 32, 32))
    assert count_parameters(model) == HTFE_COUNTS[arch]
    assert logits.shape == (2, 10)


@pytest.mark.parametrize("arch", ["googlenet", "mobilenet_v2", "resnet18"])
def test_real_forward(arch: str) -> None:
    model = build_client_model("htfe8", HTFE8.index(arch), (3, 32, 32), 10).eval()
    with torch.no_grad():
        features = model.base(torch.randn(2, 3, 32, 32))
        logits = model.head(features)
    assert features.shape == (2, 512)
    assert logits.shape == (2, 10)
    assert bool(torch.isfinite(logits).all())
    assert count_parameters(model) == HTFE_COUNTS[arch]
    assert count_parameters(model.base) == HTFE_COUNTS[arch] - (512 * 10 + 10)


def test_torchvision_first_conv_follows_input_channels() -> None:
    model = build_model("mobilenet_v2", (1, 28, 28), 10, feature_dim=64).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
        assert model.base(torch.randn(2, 1, 28, 28)).shape == (2, 64)
