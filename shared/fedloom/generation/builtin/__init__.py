"""FedLoom's offline image generator: a small StyleGAN-like GAN trained on CC0 / public-domain photographs.

`load_builtin()` returns the committed 32x32 generator (`weights/builtin32.safetensors`), which
implements `fedloom.generation.ImageGenerator` and needs only torch and safetensors at run time.
`train_builtin()` (and `python -m fedloom.generation.builtin.train`) retrains it; that needs the
optional scikit-image dependency, whose bundled sample photographs are the training data (see `data`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fedloom.generation.builtin.generator import BuiltinGenerator
from fedloom.generation.builtin.model import BuiltinConfig
from fedloom.generation.builtin.weights import DEFAULT_WEIGHTS, BuiltinWeightsError, load_builtin

__all__ = [
    "DEFAULT_WEIGHTS",
    "BuiltinConfig",
    "BuiltinGenerator",
    "BuiltinWeightsError",
    "load_builtin",
    "train_builtin",
]


def train_builtin(
    out_dir: Path, minutes: float, seed: int, steps: int | None = None, *, progress: bool = True, **options: Any
) -> Path:
    """Train a generator into `out_dir`; see `fedloom.generation.builtin.train.train_builtin`.

    Imported on call, so that `python -m fedloom.generation.builtin.train` runs a fresh module.
    """
    from fedloom.generation.builtin.train import train_builtin as train

    return train(out_dir, minutes, seed, steps, progress=progress, **options)
