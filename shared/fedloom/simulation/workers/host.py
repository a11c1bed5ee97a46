"""The worker's side: the clients one worker owns, kept between rounds, and the requests it answers."""

from __future__ import annotations

import os
import socket
import traceback

import torch
from pydantic import BaseModel

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ClientContext
from fedloom.errors import ConfigError
from fedloom.runtime import resolve_device
from fedloom.simulation.config import SimulationConfig
from fedloom.simulation.setup import build_contexts, load_dataset
from fedloom.simulation.workers.messages import WorkerReady, WorkerReply, WorkerRequest, WorkerSetup
from fedloom.wire import RoundTask, decode, encode


class ClientHost:
    """Builds its clients exactly as `build_contexts` does for an in-process run (same seeds, same data), so
    each client's model, optimizer and RNG state live here for the whole run and only messages move."""

    def __init__(self, setup: WorkerSetup) -> None:
        torch.set_num_threads(setup.threads)
        cfg = SimulationConfig.model_validate_json(setup.config)
        spec = get_algorithm(cfg.algorithm)
        self.algorithm = spec.make_client(make_config(spec, cfg.options))
        device = resolve_device(setup.device or cfg.device)
        self.contexts: dict[int, ClientContext] = build_contexts(cfg, load_dataset(cfg), device, set(setup.client_ids))
        missing = sorted(set(setup.client_ids) - self.contexts.keys())
        if missing:
            raise ConfigError(f"the data set on this worker has no clients {missing}")

    def ready(self, node: str = "") -> WorkerReady:
        return WorkerReady(pid=os.getpid(), host=socket.gethostname(), node=node)

    def handle(self, request_bytes: bytes) -> bytes:
        """Answer one encoded WorkerRequest with an encoded WorkerReply; a failing client's traceback goes back."""
        request = decode(request_bytes, WorkerRequest)
        client_id: int | None = None
        results = []
        try:
            for data in request.joins:
                task = decode(data, RoundTask)
                client_id = task.client_id
                self.algorithm.join(self.contexts[client_id], task.payload)
            for data in request.tasks:
                task = decode(data, RoundTask)
                client_id = task.client_id
                results.append(encode(self.run(task)))
        except Exception:  # any failure of the algorithm's code: the driver reports it and stops the run
            return encode(WorkerReply(results=[], error=f"client {client_id}: {traceback.format_exc()}"))
        return encode(WorkerReply(results=results))

    def run(self, task: RoundTask) -> BaseModel:
        ctx = self.contexts[task.client_id]
        if task.kind == "fit":
            return self.algorithm.fit(ctx, task.payload)
        return self.algorithm.evaluate(ctx, task.payload)
