"""SIGTERM / SIGINT handling: finish the current task, checkpoint it, then stop.

While the agent is idle (waiting in a long-poll) a signal aborts the wait at once; while it works on
a task the signal only asks it to stop after that task. A second signal aborts whatever is running
(the last checkpoint stays consistent, so the task is simply done again on the next start).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any

from fedloom_agent.errors import AgentInterrupted

log = logging.getLogger("fedloom.agent")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """Installs the handlers (main thread only; elsewhere the caller's stop event is the only way to stop)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self._idle = False
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}

    @contextmanager
    def idle(self) -> Iterator[None]:
        """Mark a wait that a signal may abort."""
        self._idle = True
        try:
            yield
        finally:
            self._idle = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        again = self.stop.is_set()
        self.stop.set()
        if self._idle or again:
            raise AgentInterrupted(name)
        log.info("%s received: stopping after the current task", name)
