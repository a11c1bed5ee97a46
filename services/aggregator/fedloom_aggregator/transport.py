"""The services' Transport: tasks go to clients' Redis queues, packages to the artifact store, uploads come
back through the Redis stream the API writes to. The round loop (`fedloom.federation.loop`) is the same
one the simulator runs."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch

from fedloom.federation.transport import FitOutcome
from fedloom.generation.protocol import ImageGenerator
from fedloom.stores.protocol import ArtifactStore, StateStore
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload, decode, encode
from fedloom.wire.blobs import split_large
from fedloom.wire.control import FederationConfig, Task
from fedloom.wire.routes import artifact_key, blob_key, key
from fedloom_aggregator.rounds import RoundBook, upload_stream

log = logging.getLogger("fedloom.aggregator")
WORKER_GROUP = "round-worker"


class RoundFailed(RuntimeError):
    """Too few uploads by the deadline to meet the quorum."""


def client_queue(client_id: int) -> str:
    return key("client", client_id, "tasks")


def package_key(fid: str, round_: int) -> str:
    return artifact_key(fid, round_, "package.msgpack")


def bootstrap_key(fid: str) -> str:
    return f"federations/{fid}/bootstrap.msgpack"


def upload_key(fid: str, round_: int, client_id: int, body: bytes) -> str:
    """Where a large upload is kept; named by its content, so a differing repeat never overwrites the first."""
    return artifact_key(fid, round_, f"updates/{client_id}-{hashlib.sha256(body).hexdigest()[:16]}.msgpack")


INLINE_BYTES = 1024 * 1024
"""Tensors and uploads larger than this go to the artifact store; packages and the state store reference them."""
COLLECT_BATCH_SECONDS = 0.02
UPLOAD_REF = b"ref:"  # an upload kept in the state store as a reference (msgpack bodies start with a map byte)


def stored_upload(body: bytes, artifacts: ArtifactStore, object_key: str, inline_bytes: int) -> bytes:
    """What the state store keeps of an upload: the body, or for a large one (a model) a reference to it."""
    if len(body) <= inline_bytes:
        return body
    artifacts.put(object_key, body)
    return UPLOAD_REF + object_key.encode()


def upload_body(stored: bytes, artifacts: ArtifactStore) -> bytes:
    return artifacts.get(stored[len(UPLOAD_REF) :].decode()) if stored.startswith(UPLOAD_REF) else stored


def no_activity(_: Mapping[int, object]) -> None:
    """Default for the transport's activity callbacks: nobody is told."""


@dataclass
class ServiceTransport:
    fid: str
    config: FederationConfig
    store: StateStore
    artifacts: ArtifactStore
    consumer: str = "coordinator"
    joined: set[int] = field(default_factory=set)
    aggregating_round: int = -1
    inline_bytes: int = INLINE_BYTES
    on_uploads: Callable[[dict[int, int]], None] = no_activity
    """Told each closed round's counted uploads (client id -> bytes), once per round."""
    on_reports: Callable[[dict[int, float | None]], None] = no_activity
    fence: Callable[[], None] = lambda: None
    """Raises when this process may no longer act for the federation (its lease is gone): checked before
    tasks go out, so a replica that lost its lease sends no task twice."""
    """Told each round's reported accuracies (client id -> accuracy, None without test samples)."""

    def __post_init__(self) -> None:
        self.book = RoundBook(self.store)
        self.store.ensure_group(upload_stream(self.fid), WORKER_GROUP)

    def publish(self, payload: GlobalPayload, bootstrap: GlobalPayload) -> int:
        """Store the bootstrap (once) and the round's package; returns the bytes one client downloads for it."""
        if not self.artifacts.exists(bootstrap_key(self.fid)):
            self.put_package(bootstrap_key(self.fid), bootstrap)
        return self.put_package(package_key(self.fid, payload.round), payload)

    def put_package(self, object_key: str, payload: GlobalPayload) -> int:
        """The package with its large tensors stored apart (once per content) and referenced by digest."""
        package, blobs = split_large(payload, self.inline_bytes)
        for digest, blob in blobs.items():
            if not self.artifacts.exists(blob_key(self.fid, digest)):
                self.artifacts.put(blob_key(self.fid, digest), blob)
        data = encode(package)
        self.artifacts.put(object_key, data)
        return len(data) + sum(len(blob) for blob in blobs.values())

    def stored_size(self, object_key: str) -> int:
        """Bytes of a stored package plus the blobs it references."""
        data = self.artifacts.get(object_key)
        refs = decode(data, GlobalPayload).refs.values()
        return len(data) + sum(len(self.artifacts.get(blob_key(self.fid, digest))) for digest in refs)

    def dispatch(self, kind: str, round_: int, client_ids: Sequence[int]) -> None:
        self.fence()
        task = Task(federation_id=self.fid, round=round_, kind=kind, config=self.config)
        body = task.model_dump_json().encode()
        self.store.rpush_each([(client_queue(cid), body) for cid in client_ids])

    def bootstrap_bytes(self, client_ids: Sequence[int]) -> int:
        new = [c for c in client_ids if c not in self.joined]
        self.joined.update(new)
        return len(new) * self.stored_size(bootstrap_key(self.fid)) if new else 0

    def fit(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> FitOutcome:
        """Publish, dispatch and collect round `payload.round`; a round a restarted aggregator finds begun
        is resumed where it stood (same deadline, the uploads accepted so far, no second dispatch)."""
        round_ = payload.round
        size = self.publish(payload, bootstrap)
        phase = self.book.phase(self.fid, round_)
        if phase is None:
            deadline = time.time() + self.config.round_deadline_seconds
            self.book.open(self.fid, round_, "open", list(client_ids), deadline)
        else:
            log.info("federation %s: resuming round %d (phase %s)", self.fid, round_, phase)
        if phase in (None, "open"):
            self.book.set_phase(self.fid, round_, "collecting")  # before the tasks: an upload may come at once
            phase = "collecting"
        if not self.book.marked(self.fid, round_, "tasks_sent"):  # not again when resuming the round
            self.dispatch("fit", round_, client_ids)
            self.book.mark(self.fid, round_, "tasks_sent")
        collected = self.book.collected(self.fid, round_)
        if phase == "collecting" or collected is None:
            collected = self.collect(round_, set(client_ids), self.book.deadline(self.fid, round_))
        updates, sizes = self.updates(round_, collected)
        if not self.book.marked(self.fid, round_, "activity_recorded"):  # once, also across a restart
            self.on_uploads(sizes)
            self.book.mark(self.fid, round_, "activity_recorded")
        upload_bytes = sum(sizes.values())
        self.aggregating_round = round_
        download = size * len(client_ids) + self.bootstrap_bytes(client_ids)
        return FitOutcome(updates=updates, upload_bytes=upload_bytes, download_bytes=download)

    def quorum(self, selected: int) -> int:
        return max(self.config.min_clients, math.ceil(self.config.quorum_fraction * selected))

    def collect(self, round_: int, selected: set[int], deadline: float) -> list[int]:
        """Wait until every selected client uploaded or the deadline passed; freeze who counts."""
        got = set(self.book.uploads(self.fid, round_)) & selected  # accepted before a restart
        stream = upload_stream(self.fid)
        while len(got) < len(selected) and time.time() < deadline:
            entries = self.store.xreadgroup(stream, WORKER_GROUP, self.consumer, 256, min(1.0, deadline - time.time()))
            for _, fields in entries:
                if int(fields["round"]) == round_ and int(fields["client"]) in selected:
                    got.add(int(fields["client"]))
            self.store.xack(stream, WORKER_GROUP, *(entry_id for entry_id, _ in entries))
            if entries and len(got) < len(selected):
                time.sleep(COLLECT_BATCH_SECONDS)  # let wake-ups gather: few reads per round, not one per upload
        self.book.set_phase(self.fid, round_, "aggregating")  # the atomic save refuses uploads from now on
        collected = sorted(set(self.book.uploads(self.fid, round_)) & selected)
        self.book.freeze(self.fid, round_, collected)
        if len(collected) < min(self.quorum(len(selected)), len(selected)):
            self.book.set_phase(self.fid, round_, "failed")
            raise RoundFailed(f"round {round_}: {len(collected)} of {len(selected)} uploads by the deadline")
        return collected

    def updates(self, round_: int, collected: list[int]) -> tuple[list[ClientUpdate], dict[int, int]]:
        """The counted uploads, decoded, and each one's size in bytes."""
        bodies = {cid: upload_body(b, self.artifacts) for cid, b in self.book.uploads(self.fid, round_).items()}
        missing = [cid for cid in collected if cid not in bodies]
        if missing:
            raise RoundFailed(f"round {round_}: the uploads of clients {missing} are no longer in the state store")
        return [decode(bodies[cid], ClientUpdate) for cid in collected], {c: len(bodies[c]) for c in collected}

    def evaluate(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> list[EvalReport]:
        """Publish the new package; every client evaluates with it and reports metrics for the round."""
        round_ = payload.round - 1
        self.publish(payload, bootstrap)
        self.book.set_evaluators(self.fid, round_, list(client_ids))
        self.book.set_phase(self.fid, round_, "published")  # before the tasks go out: reports are taken from now
        if not self.book.marked(self.fid, round_, "evaluations_sent"):  # not again when resuming the round
            self.dispatch("evaluate", round_, client_ids)
            self.book.mark(self.fid, round_, "evaluations_sent")
        deadline = time.time() + self.config.round_deadline_seconds
        while self.book.metrics_count(self.fid, round_) < len(client_ids) and time.time() < deadline:
            self.book.wait_metrics_event(self.fid, round_, min(1.0, deadline - time.time()))
        self.book.set_phase(self.fid, round_, "evaluated")  # the guarded save takes no report from now on
        reports = [
            EvalReport(round=round_, client_id=cid, other_correct=r.other_correct, **r.model_dump(include=REPORTED))
            for cid, r in sorted(self.book.metrics(self.fid, round_).items())
            if cid in client_ids
        ]
        self.on_reports({r.client_id: r.correct / r.total if r.total else None for r in reports})
        return reports


REPORTED = {"correct", "total", "loss"}


@dataclass
class PhaseReportingGenerator:
    """Wraps the server's image generator so that synthesis marks the round's phase as 'generating'."""

    inner: ImageGenerator
    transport: ServiceTransport

    def __post_init__(self) -> None:
        self.z_dim, self.w_dim = self.inner.z_dim, self.inner.w_dim
        self.num_ws, self.resolution = self.inner.num_ws, self.inner.resolution

    def sample_latents(self, n: int, rng: torch.Generator) -> torch.Tensor:
        return self.inner.sample_latents(n, rng)

    def map_latents(self, z: torch.Tensor) -> torch.Tensor:
        return self.inner.map_latents(z)

    def synthesize(self, w: torch.Tensor) -> torch.Tensor:
        self.transport.book.set_phase(self.transport.fid, self.transport.aggregating_round, "generating")
        return self.inner.synthesize(w)
