"""Federations: create, start (a round-loop thread per federation), inspect; uploads and metrics intake."""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
import threading
import uuid
from functools import partial
from typing import Any

import torch

from fedloom.algorithms import get_algorithm, make_config
from fedloom.federation.loop import RoundMetrics
from fedloom.stores.protocol import ArtifactStore, StateStore
from fedloom.wire.control import FederationConfig, FederationState, MetricsReport, RoundSummary, Task
from fedloom.wire.routes import blob_key, key
from fedloom_aggregator.envs import check_shared_architecture, reference_architecture
from fedloom_aggregator.errors import Conflict, Forbidden, NotFound
from fedloom_aggregator.intake import UploadIntake
from fedloom_aggregator.leases import LEASE_SECONDS, Lease
from fedloom_aggregator.loops import RoundLoops
from fedloom_aggregator.registry import ClientRegistry
from fedloom_aggregator.rounds import RoundBook
from fedloom_aggregator.runner import FederationRunner
from fedloom_aggregator.transport import (
    INLINE_BYTES,
    bootstrap_key,
    client_queue,
    package_key,
)

log = logging.getLogger("fedloom.aggregator")
FEDERATIONS = key("federations")  # hash: id -> {"config", "status", "clients", "rounds", "error"} JSON


class Coordinator:
    def __init__(
        self,
        store: StateStore,
        artifacts: ArtifactStore,
        registry: ClientRegistry,
        generator_url: str | None = None,
        generation_jobs: bool = False,
        inline_bytes: int = INLINE_BYTES,
        lease_seconds: float = LEASE_SECONDS,
        secret_noise: bool = True,
    ) -> None:
        """`generation_jobs`: send image generation through the Redis stream (store shared with the generator).
        `inline_bytes`: larger tensors of packages, and larger uploads, go to the artifact store, referenced.
        `lease_seconds`: how long a replica that stops renewing keeps its federations' loops (leases.py).
        `secret_noise`: central-DP noise from a secret per run, not from the federation's seed (privacy/noise.py)."""
        self.store, self.artifacts, self.registry = store, artifacts, registry
        self.inline_bytes = inline_bytes
        self.book = RoundBook(store)
        self.generator_url, self.generation_jobs = generator_url, generation_jobs
        self.secret_noise = secret_noise
        self.replica = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.loops = RoundLoops(store, self.replica, lease_seconds, self.run, self.running)
        self.configs: dict[str, FederationConfig] = {}  # immutable once created: read Redis once per process
        self.memberships: dict[str, frozenset[int]] = {}  # a federation's clients, fixed when it starts
        self.uploads = UploadIntake(self)

    # -- records ---------------------------------------------------------------------------------
    def load(self, fid: str) -> dict[str, Any]:
        raw = self.store.hget(FEDERATIONS, fid)
        if raw is None:
            raise NotFound(f"federation {fid} does not exist")
        record: dict[str, Any] = json.loads(raw)
        return record

    def save(self, fid: str, record: dict[str, Any]) -> None:
        self.store.hset(FEDERATIONS, {fid: json.dumps(record).encode()})

    def create(self, config: FederationConfig) -> str:
        spec = get_algorithm(config.algorithm)
        make_config(spec, config.options)  # refuse bad options now, not at start
        spec.check_privacy(config.training.privacy)
        check_shared_architecture(config)
        fid = uuid.uuid4().hex[:12]
        record = {"config": config.model_dump(mode="json"), "status": "created", "clients": [], "rounds": []}
        self.save(fid, record)
        return fid

    def state(self, fid: str) -> FederationState:
        record = self.load(fid)
        rounds = [RoundSummary.model_validate(r) for r in record["rounds"]]
        return FederationState(
            federation_id=fid,
            status=record["status"],
            config=FederationConfig.model_validate(record["config"]),
            current_round=len(rounds),
            clients=record["clients"],
            rounds=rounds,
            error=record.get("error"),
        )

    def federations(self) -> list[FederationState]:
        return [self.state(fid) for fid in sorted(self.store.hgetall(FEDERATIONS))]

    # -- running ---------------------------------------------------------------------------------
    def start(self, fid: str) -> FederationState:
        record = self.load(fid)
        if record["status"] != "created":
            raise Conflict(f"federation {fid} is already {record['status']}")
        config = FederationConfig.model_validate(record["config"])
        clients = [c.client_id for c in self.registry.clients()]
        if len(clients) < config.min_clients:
            raise Conflict(f"{len(clients)} clients enrolled, the federation needs at least {config.min_clients}")
        enrolled = self.registry.clients()
        get_algorithm(config.algorithm).check_architectures([c.architecture for c in enrolled if c.architecture])
        arch = reference_architecture(config, enrolled)
        if not self.store.swap(key("start", fid), None, self.replica.encode()):  # one start wins, on any replica
            raise Conflict(f"federation {fid} is already starting")
        record.update(status="running", clients=clients, reference_arch=arch)
        self.save(fid, record)
        self.loops.claim(fid)
        return self.state(fid)

    def resume_running(self) -> list[str]:
        """Carry on, from its checkpoint, every running federation whose lease is free (a previous process left
        it, or its holder died); from now on a watch does the same every third of a lease."""
        resumed = self.loops.claim_orphans()
        if resumed:
            log.info("resuming federations %s", ", ".join(resumed))
        self.loops.start_watch()
        return resumed

    def running(self) -> list[str]:
        records = sorted(self.store.hgetall(FEDERATIONS).items())
        return [fid for fid, raw in records if json.loads(raw)["status"] == "running"]

    def run(self, fid: str, lease: Lease) -> None:
        """The round loop of one federation (its own thread, under its lease), from its checkpoint if it has one."""
        record = self.load(fid)
        runner = FederationRunner(
            fid,
            FederationConfig.model_validate(record["config"]),
            record["clients"],
            self.store,
            self.artifacts,
            partial(self.record_round, fid, lease),
            self.generator_url,
            self.generation_jobs,
            record.get("reference_arch"),
            self.inline_bytes,
            on_uploads=self.registry.record_uploads,
            on_reports=self.registry.record_reports,
            fence=lease.check,
            secret_noise=self.secret_noise,
        )
        try:
            runner.run()
            lease.check()
            self.set_status(fid, "finished")
        except Exception as exc:
            if lease.lost.is_set():
                log.warning("federation %s: lease lost; the replica that takes it carries the loop on", fid)
                return
            log.exception("federation %s failed", fid)
            self.set_status(fid, "failed", error=f"{type(exc).__name__}: {exc}")

    def set_status(self, fid: str, status: str, error: str | None = None) -> None:
        record = self.load(fid)
        record["status"] = status
        if error is not None:
            record["error"] = error
        self.save(fid, record)

    def record_round(self, fid: str, lease: Lease, metrics: RoundMetrics) -> None:
        """Add the round's summary (or replace it: a round resumed after a restart is recorded again)."""
        lease.check()
        record = self.load(fid)
        phases = self.book.record(fid, metrics.round)
        note = phases.get("note")
        summary = RoundSummary(
            round=metrics.round,
            phase="published",
            clients=self.book.selected(fid, metrics.round),
            uploads=metrics.uploads,
            upload_bytes=metrics.upload_bytes,
            download_bytes=metrics.download_bytes,
            accuracy=metrics.accuracy,
            accuracy_std=metrics.accuracy_std,
            other_accuracy=metrics.other_accuracy,
            epsilon_by_client=metrics.epsilon_by_client,
            epsilon_max=max(metrics.epsilon_by_client.values(), default=None),
            server=metrics.server,
            phase_seconds=phase_durations(phases),
            note=note.decode() if note else None,
        )
        record["rounds"] = [*record["rounds"][: metrics.round], summary.model_dump(mode="json")]
        self.save(fid, record)
        log.info("federation %s round %d accuracy %.4f", fid, metrics.round, metrics.accuracy)

    # -- client intake ---------------------------------------------------------------------------
    def config(self, fid: str) -> FederationConfig:
        if fid not in self.configs:
            self.configs[fid] = FederationConfig.model_validate(self.load(fid)["config"])
        return self.configs[fid]

    async def next_task(self, client_id: int, wait_seconds: float) -> Task | None:
        """The client's oldest queued task, waiting up to `wait_seconds` for one (awaited: thousands of clients
        can long-poll at once without holding a worker thread each)."""
        raw = await self.store.blpop_async(client_queue(client_id), timeout_seconds=wait_seconds)
        return Task.model_validate_json(raw) if raw is not None else None

    def members(self, fid: str) -> frozenset[int]:
        if fid not in self.memberships:
            clients = frozenset(self.load(fid)["clients"])
            if not clients:
                return clients  # not started yet: ask again next time
            self.memberships[fid] = clients
        return self.memberships[fid]

    def accept_metrics(self, fid: str, round_: int, client_id: int, report: MetricsReport) -> bool:
        """Keep a client's report of a round it was asked to evaluate, while that round is being evaluated; one
        per client (False for a repeat, which changes nothing). Its test size is the one it reported first."""
        if client_id not in self.members(fid):  # 404 for an unknown federation too
            raise Forbidden(f"client {client_id} is not a member of federation {fid}")
        if client_id not in self.book.evaluators(fid, round_):
            if self.book.phase(fid, round_) != "published":
                raise Conflict(f"round {round_} of federation {fid} is not being evaluated")
            raise Forbidden(f"client {client_id} was not asked to evaluate round {round_}")
        size = self.book.pin_test_size(fid, client_id, report.total)
        if report.total != size:
            raise Conflict(f"client {client_id} reported {size} test samples before, now {report.total}")
        write = self.book.save_metrics(fid, round_, client_id, report)
        if not write.stored and write.guard_value != b"published":
            raise Conflict(f"round {round_} of federation {fid} is not being evaluated")
        return write.stored


def warm_up_optimisers() -> None:
    """The first torch optimiser imports torch._dynamo (seconds of CPU): the aggregator pays that beside
    serving when it starts, rather than while a round collects uploads or closes. The objects of every
    import so far are then moved out of the garbage collector's view (gc.freeze), so full collections
    under load scan the requests' objects only (shorter pauses in the tail of upload latency)."""
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    gc.freeze()


def start_warm_up() -> None:
    threading.Thread(target=warm_up_optimisers, name="optimiser-warm-up", daemon=True).start()


def phase_durations(record: dict[str, bytes]) -> dict[str, float]:
    stamps = sorted((float(v), k[2:]) for k, v in record.items() if k.startswith("t_"))
    return {name: round(later - t, 4) for (t, name), (later, _) in zip(stamps, stamps[1:], strict=False)}


class Packages:
    """What clients download: the bootstrap and the round packages, only for their own federations."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator

    def member_check(self, fid: str, client_id: int) -> None:
        """Clients read only their own federations' packages; the operator (id -1) reads all."""
        if client_id != -1 and client_id not in self.coordinator.members(fid):
            raise Forbidden(f"client {client_id} is not a member of federation {fid}")

    def bootstrap(self, fid: str, client_id: int) -> bytes:
        self.member_check(fid, client_id)
        return self.fetch(bootstrap_key(fid), f"federation {fid} has no bootstrap package yet")

    def package(self, fid: str, round_: int, client_id: int) -> bytes:
        self.member_check(fid, client_id)
        return self.fetch(package_key(fid, round_), f"round {round_} of federation {fid} has no package yet")

    def blob(self, fid: str, digest: str, client_id: int) -> bytes:
        """A large tensor a package of this federation references, by its digest."""
        self.member_check(fid, client_id)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise NotFound(f"{digest[:80]!r} is not a blob digest (64 lowercase hex digits)")
        return self.fetch(blob_key(fid, digest), f"federation {fid} has no blob {digest}")

    def fetch(self, object_key: str, missing: str) -> bytes:
        if not self.coordinator.artifacts.exists(object_key):
            raise NotFound(missing)
        return self.coordinator.artifacts.get(object_key)
