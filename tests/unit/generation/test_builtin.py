"""The built-in generator: packaged weights, the ImageGenerator contract, training, and bad weight files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from fedloom.errors import FedLoomError
from fedloom.generation import ImageGenerator
from fedloom.generation.builtin import (
    DEFAULT_WEIGHTS,
    BuiltinConfig,
    BuiltinGenerator,
    BuiltinWeightsError,
    load_builtin,
    train_builtin,
)
from fedloom.generation.builtin import data as builtin_data
from fedloom.generation.builtin.train import main as train_main
from fedloom.generation.grid import save_image_grid

TINY = {
    "batch": 4,
    "bank_size": 16,
    "config": BuiltinConfig(z_dim=8, w_dim=8, mapping_layers=2, channels=(8, 8, 8, 8)),
    "d_channels": (4, 4, 4, 4),
}


@pytest.fixture(scope="module")
def packaged() -> BuiltinGenerator:
    return load_builtin()


@pytest.fixture
def fake_photos(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random 'photographs' in place of scikit-image's, so training tests need no optional package."""
    photos = [torch.rand(3, 48 + 8 * i, 64, generator=torch.Generator().manual_seed(i)) for i in range(10)]
    monkeypatch.setattr(builtin_data, "load_photographs", lambda: photos)


def _latents(gen: BuiltinGenerator, n: int, seed: int) -> torch.Tensor:
    return gen.sample_latents(n, torch.Generator().manual_seed(seed))


def test_packaged_weights_load_with_protocol_attributes(packaged: BuiltinGenerator) -> None:
    assert isinstance(packaged, ImageGenerator)
    assert (packaged.num_ws, packaged.resolution) == (1, 32)
    assert packaged.z_dim == packaged.config.z_dim and packaged.w_dim == packaged.config.w_dim
    assert not packaged.training and not any(p.requires_grad for p in packaged.parameters())
    info = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert info["training"]["steps"] > 0 and "license" in info["training"]


def test_shapes_range_and_determinism(packaged: BuiltinGenerator) -> None:
    w = _latents(packaged, 6, seed=3)
    assert w.shape == (6, packaged.w_dim) and w.device.type == "cpu"
    assert torch.equal(w, _latents(packaged, 6, seed=3))
    images = packaged.synthesize(w)
    assert images.shape == (6, 3, 32, 32) and images.dtype == torch.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert torch.equal(images, packaged.synthesize(w.double()))


def test_distinct_latents_give_distinct_images(packaged: BuiltinGenerator) -> None:
    images = packaged.synthesize(_latents(packaged, 8, seed=1)).flatten(1)
    gaps = torch.cdist(images, images, p=1) / images.shape[1]
    assert gaps[~torch.eye(8, dtype=torch.bool)].min() > 1e-3
    assert images.std(dim=0).mean() > 0.02  # not one picture in many copies


def test_synthesize_rejects_wrong_shape(packaged: BuiltinGenerator) -> None:
    with pytest.raises(ValueError, match="w must have shape"):
        packaged.synthesize(torch.zeros(2, packaged.w_dim + 1))


def test_tiny_training_run_is_seeded_and_loadable(tmp_path: Path, fake_photos: None) -> None:
    first = train_builtin(tmp_path / "a", minutes=1.0, seed=5, steps=3, progress=False, **TINY)
    second = train_builtin(tmp_path / "b", minutes=1.0, seed=5, steps=3, progress=False, **TINY)
    assert first.name == "builtin32.safetensors" and first.with_suffix(".json").is_file()
    info = json.loads(first.with_suffix(".json").read_text())
    assert info["training"]["steps"] == 3 and info["training"]["seed"] == 5
    gen_a, gen_b = load_builtin(first), load_builtin(second)
    for t_a, t_b in zip(gen_a.state_dict().values(), gen_b.state_dict().values(), strict=True):
        assert torch.equal(t_a, t_b)
    assert gen_a.synthesize(_latents(gen_a, 2, seed=0)).shape == (2, 3, 32, 32)


def test_training_cli(tmp_path: Path, fake_photos: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from fedloom.generation.builtin import train as train_module

    real_train = train_module.train_builtin

    def tiny_train(out: Path, minutes: float, seed: int, steps: int | None, **_: object) -> Path:
        return real_train(out, minutes, seed, steps, progress=False, **TINY)

    monkeypatch.setattr(train_module, "train_builtin", tiny_train)
    args = ["--out", str(tmp_path), "--minutes", "1", "--seed", "1", "--steps", "1", "--grid", str(tmp_path / "g.png")]
    assert train_main(args) == 0
    assert Image.open(tmp_path / "g.png").size == (8 * 96 + 18, 8 * 96 + 18)


def test_training_rejects_bad_budget(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="minutes"):
        train_builtin(tmp_path, minutes=0.0, seed=0, steps=1)


def test_crop_bank_from_real_photographs() -> None:
    pytest.importorskip("skimage")
    bank = builtin_data.crop_bank(40, 32, torch.Generator().manual_seed(0))
    assert bank.shape == (40, 3, 32, 32) and bank.dtype == torch.uint8
    assert torch.equal(bank, builtin_data.crop_bank(40, 32, torch.Generator().manual_seed(0)))


def _copy_weights(tmp_path: Path) -> Path:
    path = tmp_path / "gen.safetensors"
    shutil.copy(DEFAULT_WEIGHTS, path)
    shutil.copy(DEFAULT_WEIGHTS.with_suffix(".json"), path.with_suffix(".json"))
    return path


def test_corrupt_weights_file_raises_clear_error(tmp_path: Path) -> None:
    path = _copy_weights(tmp_path)
    path.write_bytes(b"\x00 definitely not safetensors")
    with pytest.raises(BuiltinWeightsError, match="corrupt"):
        load_builtin(path)


def test_missing_or_mismatched_files_raise_fedloom_errors(tmp_path: Path) -> None:
    with pytest.raises(FedLoomError, match="not found"):
        load_builtin(tmp_path / "nothing.safetensors")
    path = _copy_weights(tmp_path)
    info = json.loads(path.with_suffix(".json").read_text())
    info["config"]["channels"] = [16, 16, 16, 16]
    path.with_suffix(".json").write_text(json.dumps(info))
    with pytest.raises(BuiltinWeightsError, match="do not match"):
        load_builtin(path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(BuiltinWeightsError, match="corrupt"):
        load_builtin(path)


def test_save_image_grid(tmp_path: Path) -> None:
    out = save_image_grid(torch.rand(6, 3, 32, 32), tmp_path / "sub" / "grid.png", nrow=3, scale=2)
    assert Image.open(out).size == (3 * 66 + 2, 2 * 66 + 2)
    with pytest.raises(ValueError):
        save_image_grid(torch.rand(3, 32, 32), tmp_path / "bad.png")
