"""Fixtures for the fedloom.data tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import FMNIST_DIR


@pytest.fixture
def needs_fmnist() -> Path:
    if not (FMNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"Fashion-MNIST IDX files missing in {FMNIST_DIR}: apt-get install dataset-fashion-mnist")
    return FMNIST_DIR
