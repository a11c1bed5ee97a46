"""`fedloom generator info|sample|convert` and FedKTL simulations on the built-in and a StyleGAN3 network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _stylegan3_data import TESTDATA, load_reference
from _stylegan3_fake_pickle import network_pickle
from PIL import Image

from fedloom.cli import main
from fedloom.generation.stylegan3 import load_network
from fedloom.simulation import SimulationConfig, run_simulation


def test_info_prints_the_dimensions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generator", "info", "builtin"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["resolution"] == 32 and info["num_ws"] == 1 and info["backend"] == "BuiltinGenerator"
    assert main(["generator", "info", str(TESTDATA / "tiny_t_32")]) == 0
    assert json.loads(capsys.readouterr().out)["w_dim"] == 64


def test_sample_writes_a_grid_png(tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    assert main(["generator", "sample", "builtin", "--n", "4", "--out", str(out)]) == 0
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size[0] >= 2 * 32


def test_convert_turns_a_pickle_into_the_safe_layout(tmp_path: Path) -> None:
    ref = load_reference("tiny_t_32")
    pkl = tmp_path / "network.pkl"
    pkl.write_bytes(network_pickle(ref.init_kwargs, ref.state_dict))
    assert main(["generator", "convert", str(pkl), str(tmp_path / "converted")]) == 0
    converted = load_network(tmp_path / "converted")
    assert converted.img_resolution == 32
    assert {p.name for p in (tmp_path / "converted").iterdir()} == {"G_ema.safetensors", "init_kwargs.json"}


def test_unknown_generator_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generator", "info", "/no/such/network.pkl"]) == 2
    assert "neither a built-in" in capsys.readouterr().err


@pytest.mark.parametrize("generator", ["builtin", str(TESTDATA / "tiny_t_32")])
def test_fedktl_simulation_runs_on_the_generator(generator: str) -> None:
    cfg = SimulationConfig(
        algorithm="fedktl",
        options={"server_epochs": 5},
        dataset="synthetic",
        dataset_options={"samples": 400},
        clients=2,
        rounds=2,
        models="cnn4",
        generator=generator,
        seed=0,
    )
    result = run_simulation(cfg, progress=False)
    images = result.final_payload.tensors["images"]
    assert images.shape == (10, 1, 28, 28) and float(images.min()) >= -1 and float(images.max()) <= 1
    assert result.history[-1].accuracy > 0.2
