"""Federations: create, start (a round-loop thread per federation), inspect; uploads and metrics intake."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from functools import partial
from typing import Any

import torch

from fedloom.algorithms import get_algorithm, make_config
from fedloom.errors import FedLoomError
from fedloom.federation.loop import RoundMetrics, run_federation
from fedloom.generation.backends import load_generator
from fedloom.generation.protocol import ImageGenerator
from fedloom.services.aggregator.envs import check_shared_architecture, federation_env, reference_architecture
from fedloom.services.aggregator.errors import Conflict, Forbidden, NotFound
from fedloom.services.aggregator.generator_client import GeneratorQueue, RemoteGenerator
from fedloom.services.aggregator.registry import ClientRegistry
from fedloom.services.aggregator.rounds import RoundBook, upload_stream
from fedloom.services.aggregator.transport import (
    INLINE_BYTES,
    PhaseReportingGenerator,
    ServiceTransport,
    bootstrap_key,
    client_queue,
    package_key,
    upload_key,
)
from fedloom.stores.protocol import ArtifactStore, StateStore
from fedloom.wire import ClientUpdate, decode
from fedloom.wire.control import FederationConfig, FederationState, MetricsReport, RoundSummary, Task
from fedloom.wire.routes import blob_key, key

log = logging.getLogger("fedloom.aggregator")
FEDERATIONS = key("federations")  # hash: id -> {"config", "status", "clients", "current_round"} JSON


class Coordinator:
    def __init__(
        self,
        store: StateStore,
        artifacts: ArtifactStore,
        registry: ClientRegistry,
        generator_url: str | None = None,
        generation_jobs: bool = False,
        inline_bytes: int = INLINE_BYTES,
    ) -> None:
        """`generation_jobs`: send image generation through the Redis stream (store shared with the generator).
        `inline_bytes`: larger tensors of packages, and larger uploads, go to the artifact store, referenced."""
        self.store, self.artifacts, self.registry = store, artifacts, registry
        self.inline_bytes = inline_bytes
        self.book = RoundBook(store)
        self.generator_url, self.generation_jobs = generator_url, generation_jobs
        self.threads: dict[str, threading.Thread] = {}

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
        arch = reference_architecture(config, self.registry.clients())
        record.update(status="running", clients=clients, reference_arch=arch)
        self.save(fid, record)
        args = (fid, config, clients, arch)
        thread = threading.Thread(target=self.run, args=args, name=f"federation-{fid}", daemon=True)
        self.threads[fid] = thread
        thread.start()
        return self.state(fid)

    def generator_for(self, fid: str, config: FederationConfig) -> ImageGenerator:
        """'remote' = the generator service; anything else is loaded in this process (builtin, tiny, path)."""
        if config.generator != "remote":
            return load_generator(config.generator)
        if self.generator_url is None:
            raise FedLoomError("generator 'remote' needs FEDLOOM_GENERATOR_URL")
        queue = GeneratorQueue(self.store, self.artifacts, fid) if self.generation_jobs else None
        return RemoteGenerator(self.generator_url, queue=queue)

    def run(self, fid: str, config: FederationConfig, clients: list[int], reference_arch: str | None) -> None:
        """The round loop of one federation (runs in its own thread)."""
        try:
            spec = get_algorithm(config.algorithm)
            server = spec.make_server(make_config(spec, config.options))
            transport = ServiceTransport(fid, config, self.store, self.artifacts, inline_bytes=self.inline_bytes)
            generator = (
                PhaseReportingGenerator(self.generator_for(fid, config), transport) if spec.needs_generator else None
            )
            env = federation_env(config, reference_arch, generator)
            rng = torch.Generator().manual_seed(config.seed)
            rounds = config.rounds
            on_round = partial(self.record_round, fid)
            run_federation(server, server.init(env), transport, clients, rounds, 1.0, rng, on_round=on_round)
            self.set_status(fid, "finished")
        except Exception:
            log.exception("federation %s failed", fid)
            self.set_status(fid, "failed")

    def set_status(self, fid: str, status: str) -> None:
        record = self.load(fid)
        record["status"] = status
        self.save(fid, record)

    def record_round(self, fid: str, metrics: RoundMetrics) -> None:
        record = self.load(fid)
        phases = self.book.record(fid, metrics.round)
        summary = RoundSummary(
            round=metrics.round,
            phase="published",
            clients=self.book.selected(fid, metrics.round),
            uploads=metrics.uploads,
            upload_bytes=metrics.upload_bytes,
            download_bytes=metrics.download_bytes,
            accuracy=metrics.accuracy,
            accuracy_std=metrics.accuracy_std,
            server=metrics.server,
            phase_seconds=phase_durations(phases),
        )
        record["rounds"].append(summary.model_dump(mode="json"))
        self.save(fid, record)
        log.info("federation %s round %d accuracy %.4f", fid, metrics.round, metrics.accuracy)

    # -- client intake ---------------------------------------------------------------------------
    def accept_upload(self, fid: str, round_: int, client_id: int, body: bytes) -> bool:
        """Validate an upload and queue it for the round worker; False if it repeats an earlier one."""
        update = decode(body, ClientUpdate)
        if update.client_id != client_id:
            raise Forbidden(f"client {client_id} cannot upload as client {update.client_id}")
        if update.round != round_:
            raise Conflict(f"the body is for round {update.round}, the URL for round {round_}")
        self.check_round_open(fid, round_, client_id)
        self.check_update(fid, update)
        if not self.book.mark_uploaded(fid, round_, client_id):
            return False
        fields = {"update": body, "client": str(client_id).encode()}
        if len(body) > self.inline_bytes:  # a model, not prototypes: into the artifact store, referenced
            self.artifacts.put(upload_key(fid, round_, client_id), body)
            fields = {"update_key": upload_key(fid, round_, client_id).encode(), "client": fields["client"]}
        self.store.xadd(upload_stream(fid), fields)
        return True

    def check_update(self, fid: str, update: ClientUpdate) -> None:
        """The algorithm's checks of an upload (WireError -> 400), with the federation's env where they need it."""
        record = self.load(fid)
        config = FederationConfig.model_validate(record["config"])
        spec = get_algorithm(config.algorithm)
        spec.check_update(update, config.num_classes, config.feature_dim)
        if spec.check_update_env is not None:
            env = federation_env(config, record.get("reference_arch"))
            spec.check_update_env(update, env, make_config(spec, config.options))

    def check_round_open(self, fid: str, round_: int, client_id: int) -> None:
        self.load(fid)
        phase = self.book.phase(fid, round_)
        if phase != "collecting":
            raise Conflict(f"round {round_} of federation {fid} is not collecting uploads (phase: {phase})")
        if client_id not in self.book.selected(fid, round_):
            raise Forbidden(f"client {client_id} was not selected for round {round_}")

    def next_task(self, client_id: int, wait_seconds: float) -> Task | None:
        """The client's oldest queued task, waiting up to `wait_seconds` for one."""
        raw = self.store.blpop(client_queue(client_id), timeout_seconds=wait_seconds)
        return Task.model_validate_json(raw) if raw is not None else None

    def accept_metrics(self, fid: str, round_: int, client_id: int, report: MetricsReport) -> None:
        record = self.load(fid)
        if client_id not in record["clients"]:
            raise Forbidden(f"client {client_id} is not a member of federation {fid}")
        self.book.save_metrics(fid, round_, client_id, report)


def phase_durations(record: dict[str, bytes]) -> dict[str, float]:
    stamps = sorted((float(v), k[2:]) for k, v in record.items() if k.startswith("t_"))
    return {name: round(later - t, 4) for (t, name), (later, _) in zip(stamps, stamps[1:], strict=False)}


class Packages:
    """What clients download: the bootstrap and the round packages, only for their own federations."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator

    def member_check(self, fid: str, client_id: int) -> None:
        """Clients read only their own federations' packages; the operator (id -1) reads all."""
        if client_id != -1 and client_id not in self.coordinator.load(fid)["clients"]:
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
