"""`fedloom simulate`: a whole federation in one process, on the same algorithm code as the services."""

from fedloom.simulation.config import SimulationConfig, load_config
from fedloom.simulation.runner import SimulationResult, run_simulation

__all__ = ["SimulationConfig", "SimulationResult", "load_config", "run_simulation"]
