"""Exponential backoff with full jitter, with the clock and the randomness injectable for tests."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """Attempt n (0-based) that fails waits uniform(0, min(cap, base * 2**n)) before attempt n + 1.

    Full jitter spreads the retries of many clients that lost the aggregator at the same moment.
    """

    base: float = 0.5
    cap: float = 30.0
    max_retries: int = 5
    sleep: Callable[[float], None] = time.sleep
    uniform: Callable[[float, float], float] = field(default_factory=lambda: random.Random().uniform)

    @property
    def attempts(self) -> int:
        return self.max_retries + 1

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failed attempt `attempt`."""
        return min(self.cap, self.base * 2.0 ** min(attempt, 62))

    def delay(self, attempt: int, at_least: float = 0.0) -> float:
        """A jittered wait after failed attempt `attempt`; a server's Retry-After raises it (up to `cap`)."""
        return max(self.uniform(0.0, self.ceiling(attempt)), min(at_least, self.cap))

    def wait(self, attempt: int, at_least: float = 0.0) -> float:
        """Sleep for `delay(attempt, at_least)` and return how long that was."""
        seconds = self.delay(attempt, at_least)
        self.sleep(seconds)
        return seconds
