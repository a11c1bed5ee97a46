"""Sample grids of the built-in generator, e.g. docs/builtin_generator.png."""

from __future__ import annotations

from pathlib import Path

import torch

from fedloom.generation.builtin.generator import BuiltinGenerator
from fedloom.generation.builtin.weights import load_builtin
from fedloom.generation.grid import save_image_grid


def sample_images(generator: BuiltinGenerator, n: int, seed: int = 0) -> torch.Tensor:
    """n images [n, 3, R, R] in [0, 1] from latents drawn with a CPU generator seeded by `seed`."""
    rng = torch.Generator().manual_seed(seed)
    return generator.synthesize(generator.sample_latents(n, rng))


def write_preview(weights: Path | None, out: Path, rows: int = 8, seed: int = 0, scale: int = 3) -> Path:
    """Write a rows x rows grid of samples of the generator at `weights` (None: the packaged one)."""
    generator = load_builtin(weights)
    return save_image_grid(sample_images(generator, rows * rows, seed), out, nrow=rows, scale=scale)
