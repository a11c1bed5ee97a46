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


def client_costs(dataset: FederatedDataset, models: str, feature_dim: int, local_epochs: int) -> dict[int, float]:
    """A round's work per client, roughly: forward FLOPs of its model per sample x (3 x training samples x
    epochs, for forward and backward, + test samples). FLOPs are counted on the meta device (no memory, no RNG)."""
    per_sample: dict[str, float] = {}
    costs = {}
    for index, data in enumerate(dataset.clients):
        architecture = client_architecture(models, index)
        if architecture not in per_sample:
            per_sample[architecture] = forward_flops(architecture, dataset, feature_dim)
        work = 3 * data.num_train * local_epochs + data.num_test
        costs[data.client_id] = per_sample[architecture] * max(work, 1)
    return costs


def forward_flops(architecture: str, dataset: FederatedDataset, feature_dim: int) -> float:
    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        model = build_model(architecture, dataset.input_shape, dataset.num_classes, feature_dim)
        sample = torch.empty(1, *dataset.input_shape)
        with FlopCounterMode(display=False) as counter:
            model(sample)
    return float(max(counter.get_total_flops(), 1))


def make_plan(total_threads: int, workers: int, costs: Mapping[int, float]) -> WorkerPlan:
    """At most one worker per client; threads split evenly; clients balanced by cost."""
    if workers > len(costs):
        log.info("%d workers asked for but only %d clients: using %d workers", workers, len(costs), len(costs))
        workers = len(costs)
    return WorkerPlan(threads_per_worker=split_threads(total_threads, workers), placement=balance(costs, workers))
