"""System tools the tests need, found or failed with the bootstrap's message (tests never skip for them)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

BOOTSTRAP = "run `scripts/bootstrap test` (it installs what is missing, or prints the commands for this system)"
FMNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


def missing(what: str, package: str) -> str:
    return f"{what} is missing (Debian package {package}): {BOOTSTRAP}"


def require_tool(name: str, package: str) -> str:
    """The path of a system command, or a failed test naming the package and the bootstrap."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(missing(f"`{name}`", package))
    return found


def require_fmnist() -> Path:
    if not (FMNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(missing(f"Fashion-MNIST ({FMNIST_DIR})", "dataset-fashion-mnist"))
    return FMNIST_DIR
