from pathlib import Path

import pytest

from fedloom.simulation import SimulationConfig


@pytest.fixture
def small_config(tmp_path: Path) -> SimulationConfig:
    """A 4-client, 2-round synthetic federation small enough for a unit test."""
    return SimulationConfig(
        algorithm="local",
        dataset="synthetic",
        clients=4,
        rounds=2,
        seed=0,
        models="hcnn8",
        out=tmp_path / "run",
    )
