"""Saving and loading the built-in generator: `<stem>.safetensors` (tensors) + `<stem>.json` (config, metadata)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from fedloom.errors import FedLoomError
from fedloom.generation.builtin.generator import BuiltinGenerator
from fedloom.generation.builtin.model import BuiltinConfig

FORMAT = "fedloom-builtin-generator/1"
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "builtin32.safetensors"


class BuiltinWeightsError(FedLoomError):
    """The built-in generator's weights are missing, unreadable or do not match their config."""


def save_generator(generator: BuiltinGenerator, path: Path, training: dict[str, Any]) -> Path:
    """Write the generator's tensors to `path` (.safetensors) and its config + `training` to the .json beside."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {name: t.detach().cpu().contiguous() for name, t in generator.state_dict().items()}
    save_file(tensors, str(path), metadata={"format": FORMAT})
    info = {"format": FORMAT, "config": generator.config.to_dict(), "training": training}
    path.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return path


def load_builtin(path: Path | None = None, device: str | torch.device = "cpu") -> BuiltinGenerator:
    """The built-in generator from `path` (default: the weights shipped with FedLoom), in eval mode.

    Raises BuiltinWeightsError with the reason and the path if a file is missing, corrupt or mismatched.
    """
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    config = BuiltinConfig.from_dict(_read_info(path.with_suffix(".json"))["config"])
    tensors = _read_tensors(path)
    generator = BuiltinGenerator(config)
    try:
        generator.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise BuiltinWeightsError(f"weights in {path} do not match their config: {exc}") from exc
    generator.requires_grad_(False)
    return generator.eval().to(device)


def _read_info(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BuiltinWeightsError(f"built-in generator config not found: {path} (make builtin-generator)")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        BuiltinConfig.from_dict(info["config"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BuiltinWeightsError(f"built-in generator config {path} is corrupt: {exc!r}") from exc
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise BuiltinWeightsError(f"{path} is not a {FORMAT} file")
    return info


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise BuiltinWeightsError(f"built-in generator weights not found: {path} (make builtin-generator)")
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types, and OSError / ValueError
        raise BuiltinWeightsError(f"built-in generator weights {path} are corrupt: {exc!r}") from exc
