"""Behaviour of the CPU-sized groups: shapes on several input sizes, features, assignment, training."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fedloom.errors import ConfigError
from fedloom.models import (
    MODEL_GROUPS,
    BaseHeadModel,
    build_client_model,
    build_model,
    group_architectures,
    group_names,
)
from fedloom.models.step_linear import StepLinear

CHEAP_GROUPS = ["hcnn8", "cnn4", "cpu4"]
SHAPES = [(1, 28, 28), (3, 32, 32), (3, 64, 64)]


def _cheap_archs() -> list[str]:
    return sorted({arch for group in CHEAP_GROUPS for arch in group_architectures(group)})


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("arch", _cheap_archs())
def test_shapes_and_non_negative_features(arch: str, shape: tuple[int, int, int]) -> None:
    model = build_model(arch, shape, num_classes=7, feature_dim=96)
    x = torch.randn(3, *shape)
    with torch.no_grad():
        features = model.base(x)
        logits = model.head(features)
    assert features.shape == (3, 96)
    assert logits.shape == (3, 7)
    assert bool((features >= 0).all())  # every cheap base ends in ReLU (then parameter-free pooling)


def test_forward_is_head_of_base() -> None:
    model = build_model("resnet6", (3, 32, 32), 10).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x), model.head(model.base(x)))


def test_group_names() -> None:
    assert set(group_names()) == {"hcnn8", "cnn4", "cpu4", "htfe2", "htfe3", "htfe8"}
    assert group_architectures("cpu4") == ["cnn4", "resnet4", "resnet6", "resnet8"]
    assert group_architectures("cnn4") == ["cnn4"]
    assert group_architectures("htfe2") == ["cnn4", "resnet18"]
    assert group_architectures("htfe3") == ["resnet10", "resnet18", "resnet34"]
    assert group_architectures("HtFE-img-8") == group_architectures("htfe8")
    assert group_architectures("HCNNs8") == group_architectures("hcnn8")


@pytest.mark.parametrize("group", CHEAP_GROUPS)
def test_client_i_gets_architecture_i_mod_n(group: str) -> None:
    archs = group_architectures(group)
    assert [a.name for a in MODEL_GROUPS[group]] == archs
    for i in range(2 * len(archs) + 1):
        model = build_client_model(group, i, (1, 28, 28), 10, feature_dim=32)
        assert isinstance(model, BaseHeadModel)
        assert model.arch == archs[i % len(archs)]
        assert model.feature_dim == 32


def test_head_is_a_plain_linear() -> None:
    model = build_client_model("cpu4", 1, (3, 32, 32), 10)
    assert isinstance(model.head, nn.Linear)
    assert (model.head.in_features, model.head.out_features) == (512, 10)


def test_small_resnet_repeats_native_features_to_k() -> None:
    # ResNet4's native feature has 64 values; with K=512 each is repeated 8 times (HtFLlib's rule).
    model = build_model("resnet4", (3, 32, 32), 10)
    with torch.no_grad():
        features = model.base(torch.randn(2, 3, 32, 32))
    blocks = features.view(2, 64, 8)
    assert torch.equal(blocks, blocks[:, :, :1].expand_as(blocks))


def test_same_seed_same_model() -> None:
    torch.manual_seed(3)
    a = build_client_model("cpu4", 2, (3, 32, 32), 10)
    torch.manual_seed(3)
    b = build_client_model("cpu4", 2, (3, 32, 32), 10)
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize(
    ("group", "index", "shape"),
    [("hcnn8", 3, (1, 28, 28)), ("cnn4", 0, (3, 32, 32)), ("cpu4", 1, (3, 32, 32)), ("cpu4", 3, (3, 32, 32))],
)
def test_one_sgd_step(group: str, index: int, shape: tuple[int, int, int]) -> None:
    model = build_client_model(group, index, shape, 10)
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(10, *shape), torch.randint(0, 10, (10,))
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))


def test_unknown_group_lists_known_groups() -> None:
    with pytest.raises(ConfigError, match="unknown model group 'nope'.*cnn4.*cpu4.*hcnn8"):
        build_client_model("nope", 0, (1, 28, 28), 10)
    with pytest.raises(ConfigError, match="htfe8"):
        group_architectures("HtFE-img-99")


@pytest.mark.parametrize(
    ("index", "shape", "classes", "dim", "message"),
    [
        (-1, (1, 28, 28), 10, 512, "client_index"),
        (0, (1, 28, 28), 0, 512, "num_classes"),
        (0, (1, 28, 28), 10, 0, "feature_dim"),
        (0, (28, 28), 10, 512, "input_shape"),
        (0, (1, 8, 8), 10, 512, "too small"),
    ],
)
def test_invalid_arguments(index: int, shape: tuple[int, ...], classes: int, dim: int, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_client_model("cnn4", index, shape, classes, dim)  # type: ignore[arg-type]


def test_unknown_architecture() -> None:
    with pytest.raises(ConfigError, match="unknown architecture 'vgg'.*resnet18"):
        build_model("vgg", (3, 32, 32), 10)


@pytest.mark.parametrize("arch", group_architectures("hcnn8"))
def test_fully_connected_layers_give_f_linear_bits_at_batch_10(arch: str) -> None:
    """One product form in every process (issue 19, item 7): each fully connected layer of hcnn8 on FMNIST
    shapes returns F.linear's exact bits for 10 rows, with and without its fused SGD step. (W x^T)^T rounds
    differently at these widths, so a form picked by timing (per process, per host) fails here where it wins."""
    model = build_model(arch, (1, 28, 28), num_classes=10, feature_dim=512)
    rows = torch.Generator().manual_seed(0)
    for layer in (m for m in model.modules() if isinstance(m, StepLinear)):
        x = torch.randn(10, layer.in_features, generator=rows)
        expected = F.linear(x, layer.weight, layer.bias)
        with torch.no_grad():
            assert torch.equal(layer(x), expected), (layer.in_features, layer.out_features)
        layer.step_lr = 0.1  # the fused path's forward (no backward here, so the weights stay put)
        assert torch.equal(layer(x.requires_grad_()), expected), (layer.in_features, layer.out_features)
        layer.step_lr = None
