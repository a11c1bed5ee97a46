"""The generation worker: jobs from the Redis stream `key(GENERATION_STREAM)` -> images in the artefact store.

Protocol (see `fedloom.wire.generation`): the aggregator XADDs `job_fields(fed, round, ImageRequest)`.
For each job the worker renders the images (jobs read together share device batches), writes the
encoded `ImageResponse` to `artifact_key(fed, round, GENERATED_ARTIFACT)`, then SETs the encoded
`GenerationResult(status="done", artifact_key=..., count=n)` under `generation_status_key(fed, round)`,
then XACKs. A job that cannot be done gets `GenerationResult(status="failed", error=...)` under the same
key and is acked too, so the aggregator sees the failure instead of waiting. Delivery is at least once
(an entry read but not acked is read again first); rendering is deterministic, so a repeat rewrites
the same bytes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from fedloom.errors import FedLoomError, WireError
from fedloom.stores.protocol import ArtifactStore, StateStore, StreamEntry
from fedloom.wire.codec import encode
from fedloom.wire.generation import (
    GENERATED_ARTIFACT,
    GenerationJob,
    GenerationResult,
    ImageResponse,
    generation_status_key,
    job_address,
    parse_job,
)
from fedloom.wire.routes import GENERATION_STREAM, MSGPACK, artifact_key, key
from fedloom_generator.engine import GenerationEngine

log = logging.getLogger("fedloom.generator.worker")
MAX_ERROR_CHARS = 500
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class WorkerOptions:
    group: str
    consumer: str
    jobs_per_read: int
    block_seconds: float


@dataclass(frozen=True)
class _Pending:
    entry_id: str
    job: GenerationJob


class GenerationWorker:
    """Consumes the generation stream in a background thread until `stop()`."""

    def __init__(
        self, engine: GenerationEngine, state: StateStore, artifacts: ArtifactStore, options: WorkerOptions
    ) -> None:
        self.engine, self.state, self.artifacts, self.options = engine, state, artifacts, options
        self.stream = key(GENERATION_STREAM)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._group_ready = False

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="generation-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Poll until stopped; an error (Redis away, a bug) is logged and the loop goes on after a pause."""
        log.info("generation worker started stream=%s group=%s consumer=%s", self.stream, *self._who())
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("generation worker poll failed; retrying in %.1f s", RETRY_SECONDS)
                self._stop.wait(RETRY_SECONDS)
        log.info("generation worker stopped")

    def poll_once(self) -> int:
        """Read up to `jobs_per_read` jobs (waiting up to `block_seconds`), do them; the number read."""
        o = self.options
        if not self._group_ready:  # here, not in start(): a Redis that is down at startup is retried
            self.state.ensure_group(self.stream, o.group)
            self._group_ready = True
        entries = self.state.xreadgroup(self.stream, o.group, o.consumer, o.jobs_per_read, o.block_seconds)
        if entries:
            self.process(entries)
        return len(entries)

    def process(self, entries: Sequence[StreamEntry]) -> None:
        """Do a batch of stream entries; every entry ends acked with a done or failed result."""
        ready: list[_Pending] = []
        for entry_id, fields in entries:
            try:
                job = parse_job(fields)
                self.engine.check_images(job.request)
                ready.append(_Pending(entry_id, job))
            except FedLoomError as exc:
                self._fail_entry(entry_id, fields, exc)
        if ready:
            self._render_and_store(ready)

    def _render_and_store(self, ready: list[_Pending]) -> None:
        started = time.perf_counter()
        try:
            responses = self.engine.render([p.job.request for p in ready], source="worker")
        except Exception as exc:
            if len(ready) > 1:
                log.warning("batched generation of %d jobs failed (%s); doing them one by one", len(ready), exc)
                for pending in ready:
                    self._render_and_store([pending])
                return
            log.exception("generation failed %s", _ids(ready[0].job))
            self._finish_failed(ready[0], f"image synthesis failed: {exc}")
            return
        seconds = time.perf_counter() - started
        for pending, response in zip(ready, responses, strict=True):
            self._store(pending, response, seconds)

    def _store(self, pending: _Pending, response: ImageResponse, seconds: float) -> None:
        job = pending.job
        try:
            where = artifact_key(job.federation_id, job.round, GENERATED_ARTIFACT)
            self.artifacts.put(where, encode(response), MSGPACK)
            result = GenerationResult(status="done", artifact_key=where, count=response.images.shape[0])
            self.state.set(generation_status_key(job.federation_id, job.round), encode(result))
        except Exception as exc:
            log.exception("storing generated images failed %s", _ids(job))
            self._finish_failed(pending, f"storing the images failed: {exc}")
            return
        self.state.xack(self.stream, self.options.group, pending.entry_id)
        self.engine.metrics.count_job("done")
        log.info("generation job done %s images=%d seconds=%.3f", _ids(job), response.images.shape[0], seconds)

    def _fail_entry(self, entry_id: str, fields: dict[str, bytes], exc: FedLoomError) -> None:
        try:
            federation_id, round_ = job_address(fields)
        except WireError:
            log.warning("generation job %s dropped: no federation/round to report to (%s)", entry_id, exc)
            self._ack_failed(entry_id)
            return
        log.warning("generation job refused federation=%s round=%d: %s", federation_id, round_, exc)
        self._mark_failed(federation_id, round_, str(exc))
        self._ack_failed(entry_id)

    def _finish_failed(self, pending: _Pending, error: str) -> None:
        self._mark_failed(pending.job.federation_id, pending.job.round, error)
        self._ack_failed(pending.entry_id)

    def _mark_failed(self, federation_id: str, round_: int, error: str) -> None:
        result = GenerationResult(status="failed", error=error[:MAX_ERROR_CHARS])
        self.state.set(generation_status_key(federation_id, round_), encode(result))

    def _ack_failed(self, entry_id: str) -> None:
        self.state.xack(self.stream, self.options.group, entry_id)
        self.engine.metrics.count_job("failed")

    def _who(self) -> tuple[str, str]:
        return self.options.group, self.options.consumer


def _ids(job: GenerationJob) -> str:
    return f"federation={job.federation_id} round={job.round}"
