"""Parameter counts against HtFLlib's (htfllib_fmnist.md, algorithms.md section 2.3); C=10, K=512."""

from __future__ import annotations

import pytest

from fedloom.models import build_client_model, build_model, count_parameters, group_architectures

HCNN8_COUNTS = [2_365_770, 582_026, 2_628_426, 844_682, 5_250_378, 1_631_626, 5_513_034, 1_894_282]


@pytest.mark.parametrize(("index", "expected"), list(enumerate(HCNN8_COUNTS)))
def test_hcnn8_matches_htfllib_table(index: int, expected: int) -> None:
    model = build_client_model("hcnn8", index, (1, 28, 28), 10)
    assert count_parameters(model) == expected
    assert count_parameters(model.head) == 512 * 10 + 10


def test_hcnn8_has_eight_models_with_cnn4_second() -> None:
    archs = group_architectures("hcnn8")
    assert len(archs) == 8 and len(set(archs)) == 8
    assert archs[1] == "cnn4"


@pytest.mark.parametrize(
    ("shape", "expected"), [((1, 28, 28), 582_026), ((3, 32, 32), 878_538), ((3, 64, 64), 5_597_130)]
)
def test_cnn4(shape: tuple[int, int, int], expected: int) -> None:
    # 3x64x64: flattened 13x13x64 = 10,816 (HtFLlib's dim for 64-pixel data)
    assert count_parameters(build_client_model("cnn4", 3, shape, 10)) == expected


def test_cnn4_is_pfllibs_fedavgcnn_layer_by_layer() -> None:
    # pfl_algorithms.md 1: conv1 832 + conv2 51,264 + fc1 524,800 = base 576,896; head (fc) 5,130; 582,026 in all
    model = build_model("cnn4", (1, 28, 28), 10)
    layers = {name: count_parameters(module) for name, module in model.base.named_children()}
    assert {name: n for name, n in layers.items() if n} == {"conv1": 832, "conv2": 51_264, "fc1": 524_800}
    assert count_parameters(model.base) == 576_896 and count_parameters(model.head) == 5_130
    assert count_parameters(model) == 582_026


@pytest.mark.parametrize(
    ("arch", "expected", "base"),
    [
        ("resnet4", 88_650, 83_520),
        ("resnet6", 318_794, 313_664),
        ("resnet8", 1_237_834, 1_232_704),
        ("resnet10", 4_910_922, 4_905_792),
    ],
)
def test_small_resnets(arch: str, expected: int, base: int) -> None:
    model = build_model(arch, (3, 32, 32), 10)
    assert count_parameters(model) == expected
    assert count_parameters(model.base) == base
