"""Session fixtures for the StyleGAN3 tests: the two reference folders, loaded once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from _stylegan3_data import Reference, load_reference


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """One intra-op thread: these small convolutions gain little from two, and on a busy 2-core
    machine OpenMP threads waiting on each other cost several times the compute."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_t() -> Reference:
    return load_reference("tiny_t_32")


@pytest.fixture(scope="session")
def tiny_r() -> Reference:
    return load_reference("tiny_r_64_cond")


@pytest.fixture(scope="session", params=["tiny_t_32", "tiny_r_64_cond"])
def reference(request: pytest.FixtureRequest, tiny_t: Reference, tiny_r: Reference) -> Reference:
    return tiny_t if request.param == "tiny_t_32" else tiny_r
