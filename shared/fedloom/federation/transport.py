"""How tasks reach clients and updates come back. The simulator's transport still encodes every
message with the wire codec, so what works here works over HTTP, and payload sizes are real bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from fedloom.algorithms.base import ClientAlgorithm, ClientContext
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload, RoundTask, decode, encode


@dataclass
class FitOutcome:
    """A round's uploads plus the bytes that crossed the wire for them."""

    updates: list[ClientUpdate]
    upload_bytes: int = 0
    download_bytes: int = 0


class Transport(Protocol):
    def fit(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> FitOutcome: ...

    def evaluate(
        self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload
    ) -> list[EvalReport]: ...


def _through_wire(task: RoundTask) -> tuple[RoundTask, int]:
    data = encode(task)
    return decode(data, RoundTask), len(data)


@dataclass
class InProcessTransport:
    """Runs client halves in this process, one after another, round-tripping every message."""

    algorithm: ClientAlgorithm
    contexts: dict[int, ClientContext]
    joined: set[int] = field(default_factory=set)

    def fit(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> FitOutcome:
        outcome = FitOutcome(updates=[])
        for cid in client_ids:
            ctx = self.contexts[cid]
            outcome.download_bytes += self.join_once(cid, bootstrap)
            task, size = _through_wire(RoundTask(kind="fit", round=payload.round, client_id=cid, payload=payload))
            outcome.download_bytes += size
            update_bytes = encode(self.algorithm.fit(ctx, task.payload))
            outcome.upload_bytes += len(update_bytes)
            outcome.updates.append(decode(update_bytes, ClientUpdate))
        return outcome

    def join_once(self, cid: int, bootstrap: GlobalPayload) -> int:
        """Deliver the one-time bootstrap package to a client that has not had it; returns its size."""
        if cid in self.joined:
            return 0
        received, size = _through_wire(RoundTask(kind="fit", round=0, client_id=cid, payload=bootstrap))
        self.algorithm.join(self.contexts[cid], received.payload)
        self.joined.add(cid)
        return size

    def evaluate(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> list[EvalReport]:
        reports = []
        for cid in client_ids:
            self.join_once(cid, bootstrap)
            task, _ = _through_wire(RoundTask(kind="evaluate", round=payload.round, client_id=cid, payload=payload))
            report = self.algorithm.evaluate(self.contexts[cid], task.payload)
            reports.append(decode(encode(report), EvalReport))
        return reports
