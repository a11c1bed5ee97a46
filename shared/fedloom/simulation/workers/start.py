"""Start the workers a config asks for (local processes or Ray actors) and hand back their Transport."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fedloom.data.types import FederatedDataset
from fedloom.errors import ConfigError
from fedloom.simulation.config import SimulationConfig
from fedloom.simulation.workers.local import LocalWorkers
from fedloom.simulation.workers.messages import WorkerSetup, setup_for
from fedloom.simulation.workers.plan import WorkerPlan, available_cores, client_costs, make_plan
from fedloom.simulation.workers.ray_actors import RayWorkers, connect, import_ray
from fedloom.simulation.workers.transport import WorkerBackend, WorkerTransport


@contextmanager
def worker_transport(cfg: SimulationConfig, dataset: FederatedDataset) -> Iterator[tuple[WorkerTransport, WorkerPlan]]:
    """Workers that own `dataset`'s clients for the whole run (closed on exit), and the plan they follow.

    Threads: `cfg.threads` in all (default: this machine's usable cores, or the Ray cluster's CPUs), split
    evenly; workers: `cfg.workers` (with Ray, default one per thread), at most one per client."""
    costs = client_costs(dataset, cfg.models, cfg.feature_dim, cfg.local_epochs, cfg.batch_size)
    backend: WorkerBackend
    if cfg.ray is None:
        plan = make_plan(cfg.threads or available_cores(), cfg.workers or 1, costs)
        backend = LocalWorkers(setups(cfg, plan))
    else:
        plan, backend = start_ray(cfg, cfg.ray, costs)
    try:
        yield WorkerTransport(backend, plan.placement), plan
    finally:
        backend.close()


def start_ray(cfg: SimulationConfig, address: str, costs: dict[int, float]) -> tuple[WorkerPlan, RayWorkers]:
    connected, cpus = connect(address, cfg.threads or available_cores())
    try:
        total = cfg.threads or cpus
        if total > cpus:
            raise ConfigError(f"--threads {total} is more than the {cpus} CPUs of the Ray cluster at {address!r}")
        plan = make_plan(total, cfg.workers or total, costs)
        device = "cuda" if cfg.gpus_per_client else None
        return plan, RayWorkers(setups(cfg, plan, device), cfg.gpus_per_client, disconnect=connected)
    except BaseException:
        if connected:
            import_ray().shutdown()
        raise


def setups(cfg: SimulationConfig, plan: WorkerPlan, device: str | None = None) -> list[WorkerSetup]:
    return [setup_for(cfg, ids, plan.threads_per_worker, device) for ids in plan.placement]
