"""SIGTERM in the main thread: an idle agent stops at once; a busy one finishes and checkpoints its task."""

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_helpers import agent_settings
from agent_mini_server import MiniAggregator

from fedloom_agent import Agent, CheckpointStore


def sigterm(_: int) -> None:
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.fixture
def safety_stop() -> Iterator[threading.Event]:
    """A stop event set after 20 s, so a broken handler fails the test instead of hanging it."""
    stop = threading.Event()
    timer = threading.Timer(20.0, stop.set)
    timer.start()
    yield stop
    timer.cancel()


def test_sigterm_while_polling_stops_the_agent_at_once(
    aggregator: MiniAggregator, server_url: str, tmp_path: Path, safety_stop: threading.Event
) -> None:
    aggregator.queue.clear()
    aggregator.max_wait = 30.0
    aggregator.on_poll = sigterm
    previous = signal.getsignal(signal.SIGTERM)
    agent = Agent(agent_settings(server_url, tmp_path, poll_wait=30.0))
    started = time.monotonic()
    agent.run(safety_stop)
    assert time.monotonic() - started < 3.0  # not the 30 s the poll would have waited
    assert signal.getsignal(signal.SIGTERM) is previous


def test_sigterm_during_a_task_finishes_it_first(
    aggregator: MiniAggregator, server_url: str, tmp_path: Path, safety_stop: threading.Event
) -> None:
    aggregator.on_upload = sigterm
    agent = Agent(agent_settings(server_url, tmp_path))
    started = time.monotonic()
    agent.run(safety_stop)
    assert time.monotonic() - started < 15.0  # stopped by the signal, not by the safety timer
    assert set(aggregator.uploads) == {0} and aggregator.queue[0] == (0, "evaluate")  # took no further task
    manifest = CheckpointStore(tmp_path).manifest
    assert manifest.last_completed is not None and manifest.last_completed.kind == "fit"
    assert manifest.pending == []
