"""Fixtures for the fedloom.data tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from system_tools import require_fmnist


@pytest.fixture
def needs_fmnist() -> Path:
    return require_fmnist()
