"""Load a StyleGAN3 generator from an NVIDIA pickle or a safetensors folder; convert one to the other.

Folder layout (as in the test data): `G_ema.safetensors` (NVIDIA state_dict key names) and
`init_kwargs.json` (the Generator constructor kwargs). Pickles are read with the restricted
unpickler of stylegan3.md section 2 and never execute anything from the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from fedloom.errors import ConfigError
from fedloom.generation.stylegan3.errors import NetworkFormatError
from fedloom.generation.stylegan3.network import Generator
from fedloom.generation.stylegan3.nvidia_pickle import NetworkData, cross_check, read_network_pickle

WEIGHTS_FILE = "G_ema.safetensors"
KWARGS_FILE = "init_kwargs.json"


def read_network_dir(path: str | Path) -> NetworkData:
    """Read `G_ema.safetensors` + `init_kwargs.json` from a folder."""
    path = Path(path)
    weights, kwargs_path = path / WEIGHTS_FILE, path / KWARGS_FILE
    if not weights.is_file() or not kwargs_path.is_file():
        raise ConfigError(f"{path} must contain {WEIGHTS_FILE} and {KWARGS_FILE}")
    try:
        init_kwargs = json.loads(kwargs_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise NetworkFormatError(f"{kwargs_path} is not valid JSON: {exc}") from exc
    if not isinstance(init_kwargs, dict):
        raise NetworkFormatError(f"{kwargs_path} must hold a JSON object")
    try:
        state_dict = load_file(weights, device="cpu")
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise NetworkFormatError(f"{weights} is not a readable safetensors file: {exc}") from exc
    return NetworkData(init_kwargs, state_dict)


def read_network(path: str | Path) -> NetworkData:
    """Read either layout: a folder (safetensors + JSON) or an NVIDIA network pickle."""
    path = Path(path)
    if path.is_dir():
        return read_network_dir(path)
    if not path.is_file():
        raise ConfigError(f"no StyleGAN3 network at {path}")
    return read_network_pickle(path)


def _check_state_dict(generator: Generator, state_dict: dict[str, torch.Tensor]) -> None:
    """Same keys and shapes as the generator built from init_kwargs (section 2 step 5)."""
    own = generator.state_dict()
    problems = [f"missing {k}" for k in own if k not in state_dict]
    problems += [f"unexpected {k}" for k in state_dict if k not in own]
    problems += [
        f"{k}: file {list(state_dict[k].shape)}, expected {list(v.shape)}"
        for k, v in own.items()
        if k in state_dict and state_dict[k].shape != v.shape
    ]
    if problems:
        shown = "; ".join(problems[:8]) + (f" (+{len(problems) - 8} more)" if len(problems) > 8 else "")
        raise NetworkFormatError(f"state_dict does not match the architecture from init_kwargs: {shown}")


def build_generator(data: NetworkData, device: str | torch.device = "cpu") -> Generator:
    """Build our Generator from init_kwargs, check it against the file, load the weights (eval, no grad)."""
    generator = Generator.from_init_kwargs(data.init_kwargs)
    try:
        if data.record is not None:
            cross_check(data.record, generator)
        _check_state_dict(generator, data.state_dict)
        generator.load_state_dict(data.state_dict)
    except NetworkFormatError:
        raise
    except Exception as exc:  # attribute or weight values of the wrong kinds, e.g. a dtype torch cannot cast
        raise NetworkFormatError(
            f"the network file does not fit its architecture: {type(exc).__name__}: {exc}"
        ) from exc
    return generator.eval().requires_grad_(False).to(device)


def load_network(path: str | Path, device: str | torch.device = "cpu") -> Generator:
    """Load `G_ema` from an NVIDIA pickle or a `G_ema.safetensors` + `init_kwargs.json` folder."""
    return build_generator(read_network(path), device)


def _write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    tmp = target.with_name(target.name + ".tmp")
    write(tmp)
    os.replace(tmp, target)


def convert_pickle(src_pkl: str | Path, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write `G_ema.safetensors` + `init_kwargs.json` for an NVIDIA pickle; return the folder.

    The pickle is read with the restricted unpickler and the network is rebuilt and checked before
    anything is written. Existing files are kept unless `overwrite`.
    """
    src, out = Path(src_pkl), Path(out_dir)
    if not src.is_file():
        raise ConfigError(f"no network pickle at {src}")
    existing = [out / name for name in (WEIGHTS_FILE, KWARGS_FILE) if (out / name).exists()]
    if existing and not overwrite:
        raise ConfigError(f"{existing[0]} exists; pass overwrite=True to replace it")
    data = read_network_pickle(src)
    build_generator(data)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.contiguous() for k, v in data.state_dict.items()}
    metadata = {"format": "pt", "source": src.name, "producer": "fedloom.generation.stylegan3.convert_pickle"}
    _write_atomic(out / WEIGHTS_FILE, lambda p: save_file(tensors, str(p), metadata=metadata))
    text = json.dumps(data.init_kwargs, indent=2) + "\n"
    _write_atomic(out / KWARGS_FILE, lambda p: p.write_text(text, encoding="utf-8"))
    return out
