"""Pick an image generator by name or path: `tiny`, `builtin`, or a StyleGAN3 pickle / converted folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from fedloom.errors import ConfigError
from fedloom.generation.protocol import ImageGenerator


def _tiny(device: torch.device) -> ImageGenerator:
    from fedloom.generation.tiny import TinyGenerator

    return TinyGenerator().to(device)


def _builtin(device: torch.device) -> ImageGenerator:
    from fedloom.generation.builtin import load_builtin

    return load_builtin(device=device)


NAMED: dict[str, Callable[[torch.device], ImageGenerator]] = {"tiny": _tiny, "builtin": _builtin}


def load_generator(name_or_path: str, device: torch.device | str = "cpu") -> ImageGenerator:
    """A named backend, or the StyleGAN3 network at a path; ConfigError if it is neither."""
    device = torch.device(device)
    if name_or_path in NAMED:
        return NAMED[name_or_path](device)
    path = Path(name_or_path)
    if not path.exists():
        names = ", ".join(sorted(NAMED))
        raise ConfigError(f"generator {name_or_path!r} is neither a built-in ({names}) nor an existing path")
    from fedloom.generation.stylegan3 import StyleGAN3Generator

    return StyleGAN3Generator.from_path(path, device=device)
