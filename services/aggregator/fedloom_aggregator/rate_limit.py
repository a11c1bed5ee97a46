"""Per-client rate limits: a token bucket per client id, refilled continuously, kept in this process.

Each aggregator process limits the requests it serves; behind a load balancer with N replicas a client
gets at most N times the rate. Requests over the limit are refused with 429 and a `Retry-After`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fedloom.serving.http_errors import ServiceError


class TooManyRequests(ServiceError):
    status_code = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`rate` requests per second per key (a client id, a remote address) on average, bursts of up to `burst`."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.buckets: dict[int | str, Bucket] = {}
        self.lock = threading.Lock()

    def take(self, client_id: int | str, who: str = "client") -> None:
        """Spend one token of `client_id`'s bucket, or raise TooManyRequests saying when to retry."""
        now = self.clock()
        with self.lock:
            bucket = self.buckets.setdefault(client_id, Bucket(float(self.burst), now))
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens < 1.0:
                wait = (1.0 - bucket.tokens) / self.rate
                raise TooManyRequests(
                    f"{who} {client_id} exceeded {self.rate:g} requests/s (burst {self.burst}); retry in {wait:.2f} s",
                    retry_after=wait,
                )
            bucket.tokens -= 1.0

    def forget(self, client_id: int | str) -> None:
        with self.lock:
            self.buckets.pop(client_id, None)


def retry_after_header(exc: TooManyRequests) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
