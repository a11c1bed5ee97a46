"""Worker behaviour that needs a controllable generator: shared device batches, fallback, storage failures."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import torch

from fedloom.generation.tiny import TinyGenerator
from fedloom.stores import LocalArtifactStore, MemoryStateStore, StreamEntry
from fedloom.wire import decode
from fedloom.wire.generation import GenerationResult, ImageRequest, generation_status_key, job_fields
from fedloom.wire.routes import GENERATION_STREAM, key
from fedloom_generator.engine import GenerationEngine
from fedloom_generator.worker import GenerationWorker, WorkerOptions

POISON = 42.0  # a w whose first coordinate is this makes the fake generator fail


class CountingGenerator(TinyGenerator):
    """The tiny generator, counting synthesis calls and failing on poisoned latents."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def synthesize(self, w: torch.Tensor) -> torch.Tensor:
        self.calls.append(w.shape[0])
        if bool((w[:, 0] == POISON).any()):
            raise RuntimeError("poisoned latent")
        return super().synthesize(w)


class BrokenArtifacts(LocalArtifactStore):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        raise OSError("disk full")


def make_worker(tmp_path: Path, artifacts: LocalArtifactStore | None = None) -> GenerationWorker:
    engine = GenerationEngine(
        CountingGenerator(), device=torch.device("cpu"), source="tiny", max_batch_size=8, max_n_per_request=64
    )
    options = WorkerOptions(group="generator", consumer="test", jobs_per_read=8, block_seconds=0.05)
    return GenerationWorker(engine, MemoryStateStore(), artifacts or LocalArtifactStore(tmp_path), options)


def entries(jobs: dict[str, torch.Tensor]) -> list[StreamEntry]:
    return [(f"1-{i}", job_fields(fed, 0, ImageRequest(w=w))) for i, (fed, w) in enumerate(jobs.items())]


def result(worker: GenerationWorker, fed: str) -> GenerationResult:
    raw = worker.state.get(generation_status_key(fed, 0))
    assert raw is not None, f"no result for {fed}"
    return decode(raw, GenerationResult)


def calls(worker: GenerationWorker) -> list[int]:
    generator = worker.engine.generator
    assert isinstance(generator, CountingGenerator)
    return generator.calls


def test_jobs_read_together_share_device_batches(tmp_path: Path) -> None:
    worker = make_worker(tmp_path)
    worker.process(entries({f"f{i}": torch.randn(3, 64) for i in range(4)}))  # 12 latents, batches of 8
    assert calls(worker) == [8, 4]
    assert all(result(worker, f"f{i}").count == 3 for i in range(4))


def test_a_failing_batch_is_retried_job_by_job(tmp_path: Path) -> None:
    worker = make_worker(tmp_path)
    poisoned = torch.randn(2, 64)
    poisoned[1, 0] = POISON
    worker.process(entries({"good": torch.randn(2, 64), "bad": poisoned, "also_good": torch.randn(1, 64)}))
    assert calls(worker) == [5, 2, 2, 1]
    assert result(worker, "good").status == "done" and result(worker, "also_good").status == "done"
    bad = result(worker, "bad")
    assert bad.status == "failed" and bad.error is not None and "poisoned latent" in bad.error


def test_a_storage_failure_is_reported_as_failed(tmp_path: Path) -> None:
    worker = make_worker(tmp_path, BrokenArtifacts(tmp_path))
    worker.process(entries({"f": torch.randn(2, 64)}))
    failed = result(worker, "f")
    assert failed.status == "failed" and failed.error is not None and "disk full" in failed.error


class FlakyStore(MemoryStateStore):
    """Fails the first read, as a Redis that is restarting would."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    def xreadgroup(self, stream: str, group: str, consumer: str, count: int, block_seconds: float) -> list[StreamEntry]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("redis is restarting")
        return super().xreadgroup(stream, group, consumer, count, block_seconds)


def test_the_worker_thread_survives_store_errors_and_stops_on_request(tmp_path: Path) -> None:
    worker = make_worker(tmp_path)
    worker.state = FlakyStore()
    worker.start()
    worker.state.xadd(key(GENERATION_STREAM), job_fields("f", 0, ImageRequest(w=torch.randn(2, 64))))
    deadline = time.monotonic() + 10
    while worker.state.get(generation_status_key("f", 0)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert result(worker, "f").status == "done" and worker.alive
    worker.stop()
    assert not worker.alive
    assert all(t.name != "generation-worker" for t in threading.enumerate())


@pytest.mark.parametrize("n", [0, 1, 8, 9])
def test_engine_chunking_matches_one_pass(tmp_path: Path, n: int) -> None:
    worker = make_worker(tmp_path)
    w = torch.randn(n, 64)
    (response,) = worker.engine.render([ImageRequest(w=w)], source="test")
    torch.testing.assert_close(response.images, TinyGenerator().synthesize(w), atol=1e-6, rtol=0)
