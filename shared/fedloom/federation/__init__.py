"""The round loop over a Transport, and the in-process transport used by the simulator."""

from fedloom.federation.loop import FederationOutcome, RoundMetrics, run_federation
from fedloom.federation.transport import FitOutcome, InProcessTransport, Transport

__all__ = ["FederationOutcome", "FitOutcome", "InProcessTransport", "RoundMetrics", "Transport", "run_federation"]
