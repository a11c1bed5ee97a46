"""The round loop over a Transport, and the in-process transport used by the simulator."""

from fedloom.federation.loop import RoundMetrics, run_federation
from fedloom.federation.transport import FitOutcome, InProcessTransport, Transport

__all__ = ["FitOutcome", "InProcessTransport", "RoundMetrics", "Transport", "run_federation"]
