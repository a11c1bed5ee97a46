"""The simulator's side: a Transport whose clients live in workers (processes or Ray actors) that own them.

Per round phase, each worker with selected clients gets one request holding their encoded RoundTasks; the
replies come back in the order of `client_ids`, so the server aggregates exactly what an in-process run would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from fedloom.federation import FitOutcome
from fedloom.simulation.workers.messages import WorkerError, WorkerReady, WorkerReply, WorkerRequest
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload, RoundTask, decode, encode


class WorkerBackend(Protocol):
    """Started workers, index k owning `placement[k]`; `exchange` sends each addressed worker its request and
    returns every reply, or raises WorkerError naming the clients of a worker that died."""

    ready: list[WorkerReady]

    def exchange(self, requests: Mapping[int, bytes]) -> dict[int, bytes]: ...

    def close(self) -> None: ...


@dataclass
class WorkerTransport:
    """The Transport of a parallel run: client `cid` always goes to the worker whose placement holds it."""

    backend: WorkerBackend
    placement: list[list[int]]
    joined: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.owner = {cid: k for k, ids in enumerate(self.placement) for cid in ids}

    def fit(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> FitOutcome:
        outcome = FitOutcome(updates=[])
        for data in self.run("fit", client_ids, payload, bootstrap, outcome):
            outcome.upload_bytes += len(data)
            outcome.updates.append(decode(data, ClientUpdate))
        return outcome

    def evaluate(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> list[EvalReport]:
        return [decode(data, EvalReport) for data in self.run("evaluate", client_ids, payload, bootstrap, None)]

    def run(
        self,
        kind: Literal["fit", "evaluate"],
        client_ids: Sequence[int],
        payload: GlobalPayload,
        bootstrap: GlobalPayload,
        outcome: FitOutcome | None,
    ) -> list[bytes]:
        """Every selected client's reply, in `client_ids` order."""
        batches = self.requests(kind, client_ids, payload, bootstrap, outcome)
        requests = {k: encode(WorkerRequest(joins=joins, tasks=tasks)) for k, (joins, tasks) in batches.items()}
        replies = {k: self.check(k, data, len(batches[k][1])) for k, data in self.backend.exchange(requests).items()}
        taken = dict.fromkeys(replies, 0)
        ordered = []
        for cid in client_ids:
            worker = self.owner[cid]
            ordered.append(replies[worker][taken[worker]])
            taken[worker] += 1
        return ordered

    def requests(
        self,
        kind: Literal["fit", "evaluate"],
        client_ids: Sequence[int],
        payload: GlobalPayload,
        bootstrap: GlobalPayload,
        outcome: FitOutcome | None,
    ) -> dict[int, tuple[list[bytes], list[bytes]]]:
        """Per worker: bootstraps for its clients new to the run, then one task per client. `outcome` (fit
        only) counts the bytes sent, the one-time bootstrap included, as the in-process transport does."""
        batches: dict[int, tuple[list[bytes], list[bytes]]] = {}
        for cid in client_ids:
            joins, tasks = batches.setdefault(self.owner[cid], ([], []))
            tasks.append(encode(RoundTask(kind=kind, round=payload.round, client_id=cid, payload=payload)))
            sent = len(tasks[-1])
            if cid not in self.joined:
                joins.append(encode(RoundTask(kind="fit", round=0, client_id=cid, payload=bootstrap)))
                self.joined.add(cid)
                sent += len(joins[-1])
            if outcome is not None:
                outcome.download_bytes += sent
        return batches

    def check(self, worker: int, data: bytes, expected: int) -> list[bytes]:
        reply = decode(data, WorkerReply)
        if reply.error or len(reply.results) != expected:
            where = location(self.backend.ready[worker])
            raise WorkerError(f"worker {worker} ({where}) failed on {reply.error or 'a short reply'}")
        return reply.results

    def describe(self) -> list[dict[str, Any]]:
        """Where each worker ran and which clients it owned, for the run's summary."""
        return [
            {"clients": ids, "pid": ready.pid, "host": ready.host, "node": ready.node}
            for ids, ready in zip(self.placement, self.backend.ready, strict=True)
        ]


def location(ready: WorkerReady) -> str:
    return f"pid {ready.pid} on {ready.host}" + (f", Ray node {ready.node[:12]}" if ready.node else "")
