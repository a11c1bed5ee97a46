"""Loading NVIDIA-layout network pickles safely, refusing hostile ones, and converting to safetensors.

The pickles are written by `_stylegan3_fake_pickle` in the persistence layout of stylegan3.md section 1,
with the tiny_t_32 weights as G_ema's state, so that they name exactly the globals real files name.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
from collections import OrderedDict
from pathlib import Path
from typing import Any

import _stylegan3_fake_pickle as fake
import numpy as np
import pytest
import torch
from _stylegan3_data import Reference
from safetensors.torch import load_file, save_file

from fedloom.errors import ConfigError, FedLoomError
from fedloom.generation.stylegan3 import (
    NetworkFormatError,
    UnsafePickleError,
    convert_pickle,
    load_network,
    read_network,
)

SPEC_GLOBALS = {
    "torch_utils.persistence._reconstruct_persistent_obj",
    "collections.OrderedDict",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_tensor_v2",
    "torch.storage._load_from_bytes",
    "dnnlib.util.EasyDict",
    "numpy.dtype",
    "numpy.ndarray",
}


def _write(tmp_path: Path, data: bytes, name: str = "network.pkl") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _assert_same_state(loaded: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert loaded[key].dtype == value.dtype and torch.equal(loaded[key], value), key


@pytest.mark.parametrize("numpy_core", ["numpy.core", "numpy._core"])
def test_nvidia_layout_pickle_matches_reference(tiny_t: Reference, tmp_path: Path, numpy_core: str) -> None:
    marker = tmp_path / "module_src_ran"
    hostile_src = f"open({str(marker)!r}, 'w').close()\nimport os\nos.system('touch {marker}')\n"
    data = fake.network_pickle(tiny_t.init_kwargs, tiny_t.state_dict, numpy_core=numpy_core, module_src=hostile_src)
    names = fake.globals_in(data)
    numpy_names = {f"{numpy_core}.multiarray._reconstruct", f"{numpy_core}.multiarray.scalar"}
    assert names == SPEC_GLOBALS | numpy_names  # exactly the globals real files name (section 1.2)
    path = _write(tmp_path, data)

    network = read_network(path)
    assert network.init_kwargs == tiny_t.init_kwargs
    assert list(network.init_kwargs) == list(tiny_t.init_kwargs)
    _assert_same_state(network.state_dict, tiny_t.state_dict)
    assert list(network.state_dict)[0].startswith("synthesis.")  # NVIDIA order: synthesis, then mapping

    g = load_network(path)
    v = tiny_t.vectors
    with torch.no_grad():
        ws = g.mapping(v["z"], v["c"], truncation_psi=0.7)
        img = g.synthesis(v["ws_psi1"], noise_mode="const")
    torch.testing.assert_close(ws, v["ws_psi0p7"], atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(img, v["img_psi1"], atol=1e-5, rtol=1e-5)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 3, 5])
def test_other_pickle_protocols(tiny_t: Reference, tmp_path: Path, protocol: int) -> None:
    data = fake.network_pickle(tiny_t.init_kwargs, tiny_t.state_dict, protocol=protocol, numpy_core="numpy.core")
    network = read_network(_write(tmp_path, data))
    assert network.init_kwargs == tiny_t.init_kwargs
    _assert_same_state(network.state_dict, tiny_t.state_dict)


def test_bare_generator_pickle(tiny_t: Reference, tmp_path: Path) -> None:
    data = fake.dumps(fake.generator_object(tiny_t.init_kwargs, tiny_t.state_dict))
    _assert_same_state(read_network(_write(tmp_path, data)).state_dict, tiny_t.state_dict)


class _Reduce:
    """Pickles as REDUCE(func, args) with the real global of `func`."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.args)


def _hostile_pickle(case: str, marker: Path, tiny_t: Reference) -> tuple[bytes, str]:
    """(pickle bytes, the global the refusal must name) for one hostile case."""
    touch = f"touch {marker}"
    system = _Reduce(os.system, touch)
    system_name = f"{os.system.__module__}.system"  # posix.system on Linux
    if case == "os.system":
        return b"cos\nsystem\n(V" + touch.encode() + b"\ntR.", "os.system"
    if case == "builtins.eval":
        return pickle.dumps(_Reduce(eval, f"open({str(marker)!r}, 'w').close()")), "builtins.eval"
    if case == "posix.system":
        return pickle.dumps(system), system_name
    if case == "subprocess.Popen":
        return pickle.dumps(_Reduce(subprocess.Popen, ["touch", str(marker)])), "subprocess.Popen"
    if case == "inside network":
        top = {"G_ema": fake.generator_object(tiny_t.init_kwargs, tiny_t.state_dict), "training_set_kwargs": system}
        return fake.dumps(top), system_name
    if case == "inside storage payload":
        return fake.dumps(_Reduce(torch.storage._load_from_bytes, pickle.dumps(system))), system_name
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    ["os.system", "builtins.eval", "posix.system", "subprocess.Popen", "inside network", "inside storage payload"],
)
def test_hostile_pickles_are_refused(tiny_t: Reference, tmp_path: Path, case: str) -> None:
    marker = tmp_path / "pwned"
    data, name = _hostile_pickle(case, marker, tiny_t)
    path = _write(tmp_path, data)
    with pytest.raises(UnsafePickleError, match=name.replace(".", r"\.")) as info:
        load_network(path)
    assert isinstance(info.value, FedLoomError)
    assert not marker.exists()
    with pytest.raises(UnsafePickleError):
        convert_pickle(path, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not marker.exists()


def test_data_after_stop_is_never_read(tiny_t: Reference, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    network = fake.network_pickle(tiny_t.init_kwargs, tiny_t.state_dict)
    data = network + pickle.dumps(_Reduce(os.system, f"touch {marker}"))
    _assert_same_state(read_network(_write(tmp_path, data)).state_dict, tiny_t.state_dict)
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
def test_tensor_past_its_storage_is_refused(tmp_path: Path) -> None:
    storage = torch.arange(4.0).storage()
    evil = _Reduce(torch._utils._rebuild_tensor_v2, storage, 2, (100,), (1,), False, OrderedDict())
    with pytest.raises(NetworkFormatError, match="its storage"):
        read_network(_write(tmp_path, fake.dumps({"G_ema": evil})))


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    data = fake.dumps({"G_ema": np.array([1, None], dtype=object)})
    with pytest.raises(NetworkFormatError, match="dtype"):
        read_network(_write(tmp_path, data))


def test_missing_g_ema(tmp_path: Path) -> None:
    with pytest.raises(NetworkFormatError, match="G_ema"):
        read_network(_write(tmp_path, fake.dumps({"G": None, "D": None})))


def test_file_attributes_are_cross_checked(tiny_t: Reference, tmp_path: Path) -> None:
    g_ema = fake.generator_object(tiny_t.init_kwargs, tiny_t.state_dict)
    layer = g_ema.meta["state"]["_modules"]["synthesis"].meta["state"]["_modules"]["L5_52_64"]
    layer.meta["state"]["padding"] = [9, 8, 9, 8]
    with pytest.raises(NetworkFormatError, match=r"L5_52_64\.padding"):
        load_network(_write(tmp_path, fake.dumps({"G_ema": g_ema})))


def test_unknown_init_kwargs_are_refused(tiny_t: Reference, tmp_path: Path) -> None:
    g_ema = fake.generator_object(tiny_t.init_kwargs, tiny_t.state_dict)
    g_ema.meta["state"]["_init_kwargs"]["use_noise"] = True
    with pytest.raises(NetworkFormatError, match="use_noise"):
        load_network(_write(tmp_path, fake.dumps({"G_ema": g_ema})))


def test_state_dict_must_match_architecture(tiny_t: Reference, tmp_path: Path) -> None:
    folder = tmp_path / "net"
    folder.mkdir()
    state = {k: v for k, v in tiny_t.state_dict.items() if k != "mapping.w_avg"}
    state["synthesis.L0_36_64.bias"] = torch.zeros(65)
    save_file(state, str(folder / "G_ema.safetensors"))
    (folder / "init_kwargs.json").write_text(json.dumps(tiny_t.init_kwargs))
    with pytest.raises(NetworkFormatError, match=r"missing mapping\.w_avg.*L0_36_64\.bias"):
        load_network(folder)
    with pytest.raises(ConfigError):
        load_network(tmp_path / "nothing-here")


def test_convert_round_trip(tiny_t: Reference, tmp_path: Path) -> None:
    src = _write(tmp_path, fake.network_pickle(tiny_t.init_kwargs, tiny_t.state_dict, numpy_core="numpy.core"))
    out = convert_pickle(src, tmp_path / "converted")
    assert sorted(p.name for p in out.iterdir()) == ["G_ema.safetensors", "init_kwargs.json"]
    assert json.loads((out / "init_kwargs.json").read_text()) == tiny_t.init_kwargs
    _assert_same_state(load_file(out / "G_ema.safetensors"), tiny_t.state_dict)
    g = load_network(out)
    _assert_same_state(g.state_dict(), tiny_t.generator.state_dict())
    with pytest.raises(ConfigError, match="exists"):
        convert_pickle(src, out)
    assert convert_pickle(src, out, overwrite=True) == out


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_truncated_or_corrupt_files_give_a_clear_error(tiny_t: Reference, tmp_path: Path, damage: str) -> None:
    whole = fake.network_pickle(tiny_t.init_kwargs, tiny_t.state_dict)
    data = {"truncated": whole[: len(whole) // 2], "garbage": b"\x80\x04not a network" * 50, "empty": b""}[damage]
    path = tmp_path / "network.pkl"
    path.write_bytes(data)
    with pytest.raises(FedLoomError) as info:
        load_network(path)
    assert str(path) in str(info.value) or "pickle" in str(info.value).lower()


def test_corrupt_converted_folder_gives_a_clear_error(tiny_t: Reference, tmp_path: Path) -> None:
    folder = tmp_path / "converted"
    folder.mkdir()
    (folder / "init_kwargs.json").write_text(json.dumps(tiny_t.init_kwargs))
    (folder / "G_ema.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(FedLoomError):
        load_network(folder)
