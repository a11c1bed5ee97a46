"""The agent's local checkpoint: resume after a crash with the same model, RNG and pending results.

Layout of `--state-dir`:
- `manifest.json`: the commit point. Client id, joined federations, the last completed task overall
  and per federation, and the outbox (results computed but not yet acknowledged by the aggregator).
- `fed-<digest>-<seq>.safetensors`: a federation's model, algorithm state and RNG (see `snapshot`).
- `fed-<digest>-<seq>.update|metrics`: an outbox entry, exactly the bytes to send.
- `fed-<digest>.bootstrap.msgpack`: the federation's one-time package (so a restart need not fetch it).
- `credentials.json` (0600, see `credentials`); `agent.lock`, held while an agent runs.

A commit writes new files under a new sequence number, then the manifest (atomic rename), then
removes what the old manifest referenced: a crash at any point leaves a consistent checkpoint.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from fedloom.wire import GlobalPayload, decode, encode
from fedloom_agent.errors import CheckpointError
from fedloom_agent.files import TEMP_PREFIX, remove_quietly, write_atomic
from fedloom_agent.session import Session
from fedloom_agent.snapshot import StateKind, restore, snapshot

log = logging.getLogger("fedloom.agent.checkpoint")

MANIFEST_FILE = "manifest.json"
LOCK_FILE = "agent.lock"
TaskKind = Literal["fit", "evaluate"]
OutgoingKind = Literal["update", "metrics"]
KIND_ORDER: dict[str, int] = {"fit": 0, "evaluate": 1}
"""Within a round a client fits before it evaluates."""


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskRecord(Record):
    federation_id: str
    round: int = Field(ge=0)
    kind: TaskKind

    def order(self) -> tuple[int, int]:
        return self.round, KIND_ORDER[self.kind]


class PendingRecord(Record):
    federation_id: str
    round: int = Field(ge=0)
    kind: OutgoingKind
    file: str


class FederationRecord(Record):
    architecture: str
    tensors: str
    state: dict[str, StateKind]
    done: TaskRecord


class Manifest(Record):
    format: Literal[1] = 1
    client_id: int | None = None
    sequence: int = 0
    joined: list[str] = Field(default_factory=list)
    last_completed: TaskRecord | None = None
    federations: dict[str, FederationRecord] = Field(default_factory=dict)
    pending: list[PendingRecord] = Field(default_factory=list)


@dataclass(frozen=True)
class Outgoing:
    """A result on its way to the aggregator: the encoded update, or the metrics report as JSON."""

    federation_id: str
    round: int
    kind: OutgoingKind
    body: bytes


def _stem(federation_id: str) -> str:
    return "fed-" + hashlib.sha256(federation_id.encode()).hexdigest()[:16]


class CheckpointStore:
    """Reads and commits the checkpoint under `root`; holds the current manifest in memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.manifest = self._load()
        self._sweep()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the state dir for this process: two agents on one checkpoint would corrupt each other."""
        with (self.root / LOCK_FILE).open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CheckpointError(f"another agent uses {self.root}; give each agent its own --state-dir") from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def bind(self, client_id: int) -> None:
        """Tie the checkpoint to our client id; one made for another client must not be reused."""
        if self.manifest.client_id not in (None, client_id):
            raise CheckpointError(
                f"{self.root} holds the checkpoint of client {self.manifest.client_id}, not {client_id}; "
                "use another --state-dir or remove this one"
            )

    def completed(self, task: TaskRecord) -> bool:
        """True when this task (or a later one of its federation) was already done."""
        record = self.manifest.federations.get(task.federation_id)
        return record is not None and task.order() <= record.done.order()

    def has(self, federation_id: str) -> bool:
        return federation_id in self.manifest.federations

    def save_bootstrap(self, federation_id: str, payload: GlobalPayload) -> None:
        write_atomic(self.root / f"{_stem(federation_id)}.bootstrap.msgpack", encode(payload))

    def load_bootstrap(self, federation_id: str) -> GlobalPayload | None:
        path = self.root / f"{_stem(federation_id)}.bootstrap.msgpack"
        return decode(path.read_bytes(), GlobalPayload) if path.is_file() else None

    def restore(self, session: Session) -> None:
        """Load the saved model, algorithm state and RNG of `session`'s federation into it."""
        record = self.manifest.federations[session.federation_id]
        if record.architecture != session.architecture:
            raise CheckpointError(
                f"federation {session.federation_id} was checkpointed with model {record.architecture}, "
                f"not {session.architecture}; use the same --model or another --state-dir"
            )
        restore(session.ctx, load_tensors((self.root / record.tensors).read_bytes()), record.state)

    def commit(self, session: Session, done: TaskRecord, outgoing: Outgoing) -> None:
        """Save `session` after `done`, with its result queued in the outbox, as one atomic step."""
        sequence = self.manifest.sequence + 1
        stem = f"{_stem(session.federation_id)}-{sequence}"
        tensors, kinds = snapshot(session.ctx)
        write_atomic(self.root / f"{stem}.safetensors", save_tensors(tensors))
        write_atomic(self.root / f"{stem}.{outgoing.kind}", outgoing.body)
        record = FederationRecord(
            architecture=session.architecture, tensors=f"{stem}.safetensors", state=kinds, done=done
        )
        pending = PendingRecord(
            federation_id=outgoing.federation_id,
            round=outgoing.round,
            kind=outgoing.kind,
            file=f"{stem}.{outgoing.kind}",
        )
        federations = {**self.manifest.federations, session.federation_id: record}
        self._write(
            self.manifest.model_copy(
                update={
                    "client_id": session.ctx.client_id,
                    "sequence": sequence,
                    "joined": sorted(federations),
                    "last_completed": done,
                    "federations": federations,
                    "pending": [*self.manifest.pending, pending],
                }
            )
        )

    def outbox(self) -> list[Outgoing]:
        """Results saved but not yet acknowledged, oldest first."""
        return [
            Outgoing(p.federation_id, p.round, p.kind, (self.root / p.file).read_bytes()) for p in self.manifest.pending
        ]

    def settle(self, outgoing: Outgoing) -> None:
        """Drop a result from the outbox: the aggregator acknowledged (or definitively refused) it."""
        kept = [p for p in self.manifest.pending if (p.federation_id, p.round, p.kind) != _key(outgoing)]
        self._write(self.manifest.model_copy(update={"pending": kept}))

    def _write(self, manifest: Manifest) -> None:
        write_atomic(self.root / MANIFEST_FILE, manifest.model_dump_json(indent=2).encode())
        self.manifest = manifest
        self._sweep()

    def _load(self) -> Manifest:
        path = self.root / MANIFEST_FILE
        if not path.is_file():
            return Manifest()
        try:
            return Manifest.model_validate_json(path.read_bytes())
        except ValidationError as exc:
            raise CheckpointError(f"{path} is damaged: {exc.error_count()} problems; remove {self.root}") from exc

    def _sweep(self) -> None:
        """Remove files no manifest refers to any more: old snapshots, settled results, stray temp files."""
        live = {r.tensors for r in self.manifest.federations.values()} | {p.file for p in self.manifest.pending}
        for path in self.root.iterdir():
            stale = path.name.startswith(TEMP_PREFIX) or (
                path.name.startswith("fed-") and not path.name.endswith(".bootstrap.msgpack") and path.name not in live
            )
            if stale and path.is_file():
                remove_quietly(path)


def _key(outgoing: Outgoing) -> tuple[str, int, str]:
    return outgoing.federation_id, outgoing.round, outgoing.kind
