"""How many workers, how many threads each, and which clients each owns for the whole run."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from fedloom.data.types import FederatedDataset
from fedloom.errors import ConfigError
from fedloom.models import build_model, client_architecture

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerPlan:
    threads_per_worker: int
    placement: list[list[int]]
    """Client ids per worker, each list ascending."""

    @property
    def workers(self) -> int:
        return len(self.placement)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), or the machine's count where that is unknown."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def split_threads(total: int, workers: int) -> int:
    """Threads per worker so that workers x threads never exceeds `total`; a ConfigError if 1 each does not fit."""
    if workers > total:
        raise ConfigError(
            f"{workers} workers need at least {workers} threads (1 each), but --threads allows {total}: "
            f"ask for fewer workers or more threads"
        )
    return total // workers


def balance(costs: Mapping[int, float], workers: int) -> list[list[int]]:
    """Longest-processing-time-first: clients by falling cost (ties: lower id first), each to the worker with
    the least cost so far (ties: lower index). Deterministic; every worker gets at least one client when
    there are enough clients."""
    loads = [0.0] * workers
    placement: list[list[int]] = [[] for _ in range(workers)]
    for client_id in sorted(costs, key=lambda c: (-costs[c], c)):
        target = min(range(workers), key=lambda k: (loads[k], len(placement[k]), k))
        placement[target].append(client_id)
        loads[target] += costs[client_id]
    return [sorted(ids) for ids in placement]


# A batch-B SGD step of a small CNN on one CPU thread, fitted on the AMD EPYC (Zen 4) host to the 8 hcnn8 models at
# batch 10 (within 4%): 0.34 ms per forward MFLOP of a sample, 1.19 ms per million parameters, 1.37 ms. FLOPs run at
# ~88 GFLOP/s; every weight is read and written a few times a step whatever the batch (forward, backward, SGD),
# which FLOPs miss: by FLOPs alone the 1-conv models with a 4,608-wide layer cost half of what they do, and one
# of 2 workers ran 20% longer than the other (FedProto, FMNIST20).
SECONDS_PER_FLOP = 0.34e-3 / 30e6  # per FLOP of training work (3 x forward FLOPs x samples) or of evaluation
SECONDS_PER_PARAMETER_STEP = 1.19e-9
SECONDS_PER_STEP = 1.37e-3


def client_costs(
    dataset: FederatedDataset, models: str, feature_dim: int, local_epochs: int, batch_size: int
) -> dict[int, float]:
    """A round's work per client in seconds of the fitted model above: its training steps (arithmetic, weight
    traffic, a fixed cost each) and the evaluation of its test split. Only the ratios matter (balancing).
    FLOPs and parameters are counted on the meta device (no memory, no RNG)."""
    sizes: dict[str, tuple[float, int]] = {}
    costs = {}
    for index, data in enumerate(dataset.clients):
        architecture = client_architecture(models, index)
        if architecture not in sizes:
            sizes[architecture] = model_size(architecture, dataset, feature_dim)
        flops, parameters = sizes[architecture]
        steps = local_epochs * data.num_train / batch_size
        step = SECONDS_PER_FLOP * 3 * flops * batch_size + SECONDS_PER_PARAMETER_STEP * parameters + SECONDS_PER_STEP
        costs[data.client_id] = max(steps * step + SECONDS_PER_FLOP * flops * data.num_test, SECONDS_PER_STEP)
    return costs


def model_size(architecture: str, dataset: FederatedDataset, feature_dim: int) -> tuple[float, int]:
    """(forward FLOPs of one sample, parameters) of the client model."""
    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        model = build_model(architecture, dataset.input_shape, dataset.num_classes, feature_dim)
        sample = torch.empty(1, *dataset.input_shape)
        with FlopCounterMode(display=False) as counter:
            model(sample)
    return float(max(counter.get_total_flops(), 1)), sum(p.numel() for p in model.parameters())


def make_plan(total_threads: int, workers: int, costs: Mapping[int, float]) -> WorkerPlan:
    """At most one worker per client; threads split evenly; clients balanced by cost."""
    if workers > len(costs):
        log.info("%d workers asked for but only %d clients: using %d workers", workers, len(costs), len(costs))
        workers = len(costs)
    return WorkerPlan(threads_per_worker=split_threads(total_threads, workers), placement=balance(costs, workers))
