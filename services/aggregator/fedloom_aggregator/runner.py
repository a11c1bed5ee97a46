"""One federation's round loop inside the aggregator: the server half built from the federation's config,
resumed from its checkpoint (after a restart of the aggregator) and carried over state-store outages
(the loop waits for Redis to answer again, then resumes the same way)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ServerEnv
from fedloom.errors import FedLoomError
from fedloom.federation.loop import RoundMetrics, run_federation
from fedloom.generation.backends import load_generator
from fedloom.generation.protocol import ImageGenerator
from fedloom.privacy.noise import secret_seed
from fedloom.stores.errors import StoreUnavailable
from fedloom.stores.protocol import ArtifactStore, StateStore
from fedloom.wire.control import FederationConfig
from fedloom_aggregator.envs import federation_env
from fedloom_aggregator.fallback import GeneratorFallback
from fedloom_aggregator.generator_client import GeneratorQueue, RemoteGenerator
from fedloom_aggregator.rounds import RoundBook
from fedloom_aggregator.server_state import ServerCheckpoints
from fedloom_aggregator.transport import (
    INLINE_BYTES,
    PhaseReportingGenerator,
    ServiceTransport,
    no_activity,
)

log = logging.getLogger("fedloom.aggregator")
STORE_POLL_SECONDS = 1.0


@dataclass
class FederationRunner:
    fid: str
    config: FederationConfig
    clients: list[int]
    store: StateStore
    artifacts: ArtifactStore
    record_round: Callable[[RoundMetrics], None]
    generator_url: str | None = None
    generation_jobs: bool = False
    reference_arch: str | None = None
    inline_bytes: int = INLINE_BYTES
    on_uploads: Callable[[dict[int, int]], None] = no_activity
    on_reports: Callable[[dict[int, float | None]], None] = no_activity
    fence: Callable[[], None] = lambda: None
    """Raises when this process may no longer write the federation's progress (its lease is lost)."""
    secret_noise: bool = True
    """Central-DP noise from a secret drawn when this run (or resumption) starts (`fedloom.privacy.noise`)."""

    def run(self) -> None:
        """All rounds; raises what ends the federation (a failed round, a bad config)."""
        while True:
            try:
                self.run_from_checkpoint()
                return
            except StoreUnavailable as exc:
                log.warning("federation %s: %s; resuming once the state store answers", self.fid, exc)
                while not self.store.ping():
                    time.sleep(STORE_POLL_SECONDS)

    def run_from_checkpoint(self) -> None:
        spec = get_algorithm(self.config.algorithm)
        transport = ServiceTransport(
            self.fid,
            self.config,
            self.store,
            self.artifacts,
            inline_bytes=self.inline_bytes,
            on_uploads=self.on_uploads,
            on_reports=self.on_reports,
            fence=self.fence,
        )
        inner = spec.make_server(make_config(spec, self.config.options))
        server = GeneratorFallback(inner, transport, proceed=self.config.on_generator_failure == "proceed")
        rng = torch.Generator().manual_seed(self.config.seed)
        checkpoints = ServerCheckpoints(self.artifacts)
        state, first = checkpoints.resume(self.fid, server.init(self.server_env(transport)), rng)
        if first:
            log.info("federation %s: resuming at round %d", self.fid, first)
            transport.joined.update(self.clients)  # every client joined in round 0 (join ratio 1)

        def checkpoint(next_round: int, state: Any, rng: torch.Generator) -> None:
            self.fence()
            checkpoints.save(self.fid, next_round, state, rng)
            RoundBook(self.store).forget_uploads(self.fid, next_round - 1)

        rounds = self.config.rounds
        run_federation(
            server, state, transport, self.clients, rounds, 1.0, rng, self.record_round, checkpoint, first_round=first
        )

    def server_env(self, transport: ServiceTransport) -> ServerEnv:
        generator = None
        if get_algorithm(self.config.algorithm).needs_generator:
            generator = PhaseReportingGenerator(self.generator_for(transport), transport)
        secret = secret_seed() if self.secret_noise else None
        return replace(federation_env(self.config, self.reference_arch, generator), noise_secret=secret)

    def generator_for(self, transport: ServiceTransport) -> ImageGenerator:
        """'remote' = the generator service; anything else is loaded in this process (builtin, tiny, path)."""
        if self.config.generator != "remote":
            return load_generator(self.config.generator)
        if self.generator_url is None:
            raise FedLoomError("generator 'remote' needs FEDLOOM_GENERATOR_URL")
        queue = None
        if self.generation_jobs:
            queue = GeneratorQueue(self.store, self.artifacts, self.fid, lambda: transport.aggregating_round)
        return RemoteGenerator(self.generator_url, retry_seconds=self.config.generator_retry_seconds, queue=queue)
