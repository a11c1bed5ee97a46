"""Parallel simulation: the clients of a run live on worker processes (or Ray actors) that own them for the
whole run; only the algorithm's messages cross, through the wire codec. See `worker_transport`."""

from fedloom.simulation.workers.messages import WorkerError
from fedloom.simulation.workers.plan import WorkerPlan
from fedloom.simulation.workers.start import worker_transport
from fedloom.simulation.workers.transport import WorkerTransport

__all__ = ["WorkerError", "WorkerPlan", "WorkerTransport", "worker_transport"]
