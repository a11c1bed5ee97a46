"""Round records in the StateStore: phase, selected clients, deadline, uploads, metrics, timings.

Keys per federation f and round r:
  fed:f:round:r           hash  phase, clients (JSON), deadline, collected (JSON), note, phase timestamps
  fed:f:round:r:uploaded  hash  client id -> the accepted upload's bytes (first upload wins: idempotency)
  fed:f:round:r:metrics   hash  client id -> MetricsReport JSON
  fed:f:round:r:events    list  wake-ups for whoever waits on metrics
  fed:f:uploads           stream (client, round) of each accepted upload: wakes the round worker

The uploads hash is the record of what was accepted: a restarted aggregator reads it again, so nothing
accepted is lost, and it is keyed by client, so nothing is counted twice. `collected` freezes which of
them the round aggregates (written once the phase left "collecting").
"""

from __future__ import annotations

import json
import time

from fedloom.stores.protocol import Guard, GuardedWrite, Notice, StateStore
from fedloom.wire.control import MetricsReport, RoundPhase
from fedloom.wire.routes import UPLOAD_STREAM, key

UPLOAD_STREAM_LENGTH = 100_000  # wake-ups kept per federation (the uploads themselves are in a hash)


def round_key(fid: str, round_: int, *suffix: str) -> str:
    return key("fed", fid, "round", round_, *suffix)


def upload_stream(fid: str) -> str:
    return key("fed", fid, UPLOAD_STREAM)


class RoundBook:
    """Reads and writes round records; no logic beyond keeping them consistent."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def open(self, fid: str, round_: int, phase: RoundPhase, clients: list[int], deadline: float) -> None:
        self.store.hset(
            round_key(fid, round_),
            {
                "phase": phase.encode(),
                "clients": json.dumps(clients).encode(),
                "deadline": str(deadline).encode(),
                f"t_{phase}": str(time.time()).encode(),
            },
        )

    def set_phase(self, fid: str, round_: int, phase: RoundPhase) -> None:
        self.store.hset(round_key(fid, round_), {"phase": phase.encode(), f"t_{phase}": str(time.time()).encode()})

    def record(self, fid: str, round_: int) -> dict[str, bytes]:
        return self.store.hgetall(round_key(fid, round_))

    def phase(self, fid: str, round_: int) -> str | None:
        raw = self.store.hget(round_key(fid, round_), "phase")
        return raw.decode() if raw else None

    def selected(self, fid: str, round_: int) -> list[int]:
        raw = self.store.hget(round_key(fid, round_), "clients")
        return list(json.loads(raw)) if raw else []

    def deadline(self, fid: str, round_: int) -> float:
        raw = self.store.hget(round_key(fid, round_), "deadline")
        return float(raw) if raw else 0.0

    def note(self, fid: str, round_: int, text: str) -> None:
        """A line for the operators about how the round went (shown in its RoundSummary)."""
        self.store.hset(round_key(fid, round_), {"note": text.encode()})

    def save_upload(self, fid: str, round_: int, client_id: int, body: bytes) -> GuardedWrite:
        """Keep the first upload of this client while the round is collecting and wake the round worker, in
        one atomic step: the worker moves the phase on before its final read of the uploads, so every upload
        stored here is in that read. Not stored: a repeat, or the round was not collecting (`guard_value`
        is its phase)."""
        return self.store.hsetnx_guarded(*self.upload_write(fid, round_, client_id, body))

    async def save_upload_async(self, fid: str, round_: int, client_id: int, body: bytes) -> GuardedWrite:
        """`save_upload`, awaited on the event loop."""
        return await self.store.hsetnx_guarded_async(*self.upload_write(fid, round_, client_id, body))

    def upload_write(self, fid: str, round_: int, client_id: int, body: bytes) -> tuple[str, str, bytes, Guard, Notice]:
        collecting = Guard(round_key(fid, round_), "phase", b"collecting")
        wake = {"client": str(client_id).encode(), "round": str(round_).encode()}
        notice = Notice(upload_stream(fid), wake, maxlen=UPLOAD_STREAM_LENGTH)
        return round_key(fid, round_, "uploaded"), str(client_id), body, collecting, notice

    def uploads(self, fid: str, round_: int) -> dict[int, bytes]:
        return {int(cid): body for cid, body in self.store.hgetall(round_key(fid, round_, "uploaded")).items()}

    def freeze(self, fid: str, round_: int, clients: list[int]) -> None:
        """Fix the clients whose uploads the round aggregates (after its phase left "collecting")."""
        self.store.hset(round_key(fid, round_), {"collected": json.dumps(sorted(clients)).encode()})

    def collected(self, fid: str, round_: int) -> list[int] | None:
        raw = self.store.hget(round_key(fid, round_), "collected")
        return list(json.loads(raw)) if raw else None

    def mark(self, fid: str, round_: int, name: str) -> None:
        self.store.hset(round_key(fid, round_), {name: b"1"})

    def marked(self, fid: str, round_: int, name: str) -> bool:
        return self.store.hget(round_key(fid, round_), name) is not None

    def forget_uploads(self, fid: str, round_: int) -> None:
        """Drop a finished round's upload bytes (its result is in the server checkpoint by then)."""
        self.store.delete(round_key(fid, round_, "uploaded"))

    def set_evaluators(self, fid: str, round_: int, clients: list[int]) -> None:
        """The clients asked to evaluate the round (the only ones whose reports count)."""
        self.store.hset(round_key(fid, round_), {"evaluators": json.dumps(sorted(clients)).encode()})

    def evaluators(self, fid: str, round_: int) -> list[int]:
        raw = self.store.hget(round_key(fid, round_), "evaluators")
        return list(json.loads(raw)) if raw else []

    def save_metrics(self, fid: str, round_: int, client_id: int, report: MetricsReport) -> GuardedWrite:
        """Keep the client's first report while the round is being evaluated (one atomic step, like uploads),
        then wake whoever waits. Not stored: a repeat, or the round was not in evaluation (`guard_value`)."""
        evaluating = Guard(round_key(fid, round_), "phase", b"published")
        target, field = round_key(fid, round_, "metrics"), str(client_id)
        write = self.store.hsetnx_guarded(target, field, report.model_dump_json().encode(), evaluating)
        if write.stored:
            self.store.rpush(round_key(fid, round_, "events"), field.encode())
        return write

    def pin_test_size(self, fid: str, client_id: int, total: int) -> int:
        """The client's test-split size in this federation: the first report's, kept from then on."""
        sizes = key("fed", fid, "test-sizes")
        self.store.hsetnx(sizes, str(client_id), str(total).encode())
        return int(self.store.hget(sizes, str(client_id)) or total)

    def metrics(self, fid: str, round_: int) -> dict[int, MetricsReport]:
        rows = self.store.hgetall(round_key(fid, round_, "metrics"))
        return {int(cid): MetricsReport.model_validate_json(raw) for cid, raw in rows.items()}

    def metrics_count(self, fid: str, round_: int) -> int:
        return self.store.hlen(round_key(fid, round_, "metrics"))

    def wait_metrics_event(self, fid: str, round_: int, timeout: float) -> None:
        self.store.blpop(round_key(fid, round_, "events"), timeout_seconds=max(timeout, 0.0))
