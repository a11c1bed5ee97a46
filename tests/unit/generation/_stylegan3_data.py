"""The StyleGAN3 reference test data (tests/data/stylegan3, see its README) for the tests in this folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from fedloom.generation.stylegan3 import Generator, load_network

TESTDATA = Path(__file__).resolve().parents[2] / "data" / "stylegan3"


@dataclass
class Reference:
    """One test-data folder: its path, kwargs, weights, reference vectors and the loaded generator."""

    path: Path
    init_kwargs: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    vectors: dict[str, torch.Tensor]
    generator: Generator


def load_reference(name: str) -> Reference:
    """Load one folder; a missing folder fails the test (the data is part of the repository)."""
    path = TESTDATA / name
    assert (path / "vectors.safetensors").is_file(), f"StyleGAN3 test data missing at {path}"
    kwargs = json.loads((path / "init_kwargs.json").read_text())
    return Reference(
        path, kwargs, load_file(path / "G_ema.safetensors"), load_file(path / "vectors.safetensors"), load_network(path)
    )
