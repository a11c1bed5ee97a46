"""The StyleGAN3 reference test data (shared/testdata/stylegan3) for the tests in this folder.

The data lives beside the repository (repo/../shared/testdata/stylegan3), as in CI where shared/ is
copied next to the clone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from fedloom.generation.stylegan3 import Generator, load_network

TESTDATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "stylegan3"


@dataclass
class Reference:
    """One test-data folder: its path, kwargs, weights, reference vectors and the loaded generator."""

    path: Path
    init_kwargs: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    vectors: dict[str, torch.Tensor]
    generator: Generator


def load_reference(name: str) -> Reference:
    """Load one folder, or skip the test when the shared test data is not there."""
    path = TESTDATA / name
    if not (path / "vectors.safetensors").is_file():
        pytest.skip(f"StyleGAN3 test data not found at {path}")
    kwargs = json.loads((path / "init_kwargs.json").read_text())
    return Reference(
        path, kwargs, load_file(path / "G_ema.safetensors"), load_file(path / "vectors.safetensors"), load_network(path)
    )
