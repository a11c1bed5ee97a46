"""What crosses between the simulator and its workers, as wire messages through the msgpack codec.

The algorithm's own messages (RoundTask, ClientUpdate, EvalReport) travel inside these envelopes already
encoded, exactly as the in-process transport and the services encode them.
"""

from __future__ import annotations

from fedloom.errors import FedLoomError
from fedloom.simulation.config import SimulationConfig
from fedloom.wire.messages import WireModel


class WorkerSetup(WireModel):
    """Sent once: the run's settings (only those the user set, so defaults resolve alike) and the clients owned."""

    config: str
    client_ids: list[int]
    threads: int
    device: str | None = None


class WorkerReady(WireModel):
    """The worker's answer to its setup: where it runs, or why it could not build its clients."""

    pid: int = 0
    host: str = ""
    node: str = ""
    error: str = ""


class WorkerRequest(WireModel):
    """One phase of a round for one worker: bootstraps for clients new to it, then fit or evaluate tasks."""

    joins: list[bytes]
    tasks: list[bytes]


class WorkerReply(WireModel):
    """The encoded ClientUpdate or EvalReport of each task, in task order, or the error that stopped it."""

    results: list[bytes]
    error: str = ""


class WorkerError(FedLoomError):
    """A worker died or failed; the run cannot go on without the clients it owned."""


def setup_for(cfg: SimulationConfig, client_ids: list[int], threads: int, device: str | None = None) -> WorkerSetup:
    """Only the fields the user set travel: a `pfl:` folder's own client count must stay the default there too."""
    return WorkerSetup(
        config=cfg.model_dump_json(exclude_unset=True), client_ids=client_ids, threads=threads, device=device
    )
