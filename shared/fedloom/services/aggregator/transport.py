"""The services' Transport: tasks go to clients' Redis queues, packages to the artifact store, uploads come
back through the Redis stream the API writes to. The round loop (`fedloom.federation.loop`) is the same
one the simulator runs."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from fedloom.federation.transport import FitOutcome
from fedloom.generation.protocol import ImageGenerator
from fedloom.services.aggregator.rounds import RoundBook, upload_stream
from fedloom.stores.protocol import ArtifactStore, StateStore
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload, decode, encode
from fedloom.wire.blobs import split_large
from fedloom.wire.control import FederationConfig, Task
from fedloom.wire.routes import artifact_key, blob_key, key

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


def upload_key(fid: str, round_: int, client_id: int) -> str:
    return artifact_key(fid, round_, f"updates/{client_id}.msgpack")


INLINE_BYTES = 1024 * 1024
"""Tensors and uploads larger than this go to the artifact store; packages and stream entries reference them."""


def update_body(fields: dict[str, bytes], artifacts: ArtifactStore) -> bytes:
    """An upload stream entry's update: inline, or the artifact it references (large model uploads)."""
    return fields["update"] if "update" in fields else artifacts.get(fields["update_key"].decode())


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
        task = Task(federation_id=self.fid, round=round_, kind=kind, config=self.config)
        body = task.model_dump_json().encode()
        for cid in client_ids:
            self.store.rpush(client_queue(cid), body)

    def bootstrap_bytes(self, client_ids: Sequence[int]) -> int:
        new = [c for c in client_ids if c not in self.joined]
        self.joined.update(new)
        return len(new) * self.stored_size(bootstrap_key(self.fid)) if new else 0

    def fit(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> FitOutcome:
        round_ = payload.round
        size = self.publish(payload, bootstrap)
        deadline = time.time() + self.config.round_deadline_seconds
        self.book.open(self.fid, round_, "open", list(client_ids), deadline)
        self.dispatch("fit", round_, client_ids)
        self.book.set_phase(self.fid, round_, "collecting")
        updates, upload_bytes = self.collect(round_, set(client_ids), deadline)
        self.book.set_phase(self.fid, round_, "aggregating")
        self.aggregating_round = round_
        download = size * len(client_ids) + self.bootstrap_bytes(client_ids)
        return FitOutcome(updates=updates, upload_bytes=upload_bytes, download_bytes=download)

    def quorum(self, selected: int) -> int:
        return max(self.config.min_clients, math.ceil(self.config.quorum_fraction * selected))

    def collect(self, round_: int, selected: set[int], deadline: float) -> tuple[list[ClientUpdate], int]:
        """Read the upload stream until every selected client uploaded or the deadline passed."""
        got: dict[int, ClientUpdate] = {}
        total = 0
        stream = upload_stream(self.fid)
        while len(got) < len(selected) and time.time() < deadline:
            entries = self.store.xreadgroup(stream, WORKER_GROUP, self.consumer, 64, min(1.0, deadline - time.time()))
            for entry_id, fields in entries:
                body = update_body(fields, self.artifacts)
                update = decode(body, ClientUpdate)
                if update.round == round_ and update.client_id in selected:
                    got[update.client_id] = update
                    total += len(body)
                self.store.xack(stream, WORKER_GROUP, entry_id)
        if len(got) < min(self.quorum(len(selected)), len(selected)):
            self.book.set_phase(self.fid, round_, "failed")
            raise RoundFailed(f"round {round_}: {len(got)} of {len(selected)} uploads by the deadline")
        return [got[cid] for cid in sorted(got)], total

    def evaluate(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> list[EvalReport]:
        """Publish the new package; every client evaluates with it and reports metrics for the round."""
        round_ = payload.round - 1
        self.publish(payload, bootstrap)
        self.book.set_phase(self.fid, round_, "published")
        self.dispatch("evaluate", round_, client_ids)
        deadline = time.time() + self.config.round_deadline_seconds
        reports = self.book.metrics(self.fid, round_)
        while len(reports) < len(client_ids) and time.time() < deadline:
            self.book.wait_metrics_event(self.fid, round_, min(1.0, deadline - time.time()))
            reports = self.book.metrics(self.fid, round_)
        return [
            EvalReport(round=round_, client_id=cid, correct=r.correct, total=r.total, loss=r.loss)
            for cid, r in sorted(reports.items())
            if cid in client_ids
        ]


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
