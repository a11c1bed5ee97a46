import pytest

from fedloom.simulation import SimulationConfig


@pytest.fixture
def federation() -> SimulationConfig:
    """5 synthetic clients on 5 hcnn8 architectures, 3 rounds of 4 clients, 1 torch thread (per worker)."""
    return SimulationConfig(
        algorithm="fedproto", dataset="synthetic", clients=5, join_ratio=0.8, rounds=3, seed=3, threads=1
    )
