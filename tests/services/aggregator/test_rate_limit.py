"""The token bucket on an injected clock: burst, refill, per-client buckets, retry hint."""

import pytest

from fedloom_aggregator.rate_limit import RateLimiter, TooManyRequests, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate_and_buckets_are_per_client() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    for _ in range(3):
        limiter.take(7)
    with pytest.raises(TooManyRequests) as refused:
        limiter.take(7)
    assert refused.value.status_code == 429 and refused.value.retry_after == pytest.approx(0.5)
    assert retry_after_header(refused.value) == {"Retry-After": "1"}
    limiter.take(8)  # another client is not affected
    clock.now += 0.5  # one token back at 2/s
    limiter.take(7)
    with pytest.raises(TooManyRequests):
        limiter.take(7)
    clock.now += 60  # refills only up to the burst
    for _ in range(3):
        limiter.take(7)
    with pytest.raises(TooManyRequests):
        limiter.take(7)


def test_forgotten_client_starts_with_a_full_bucket() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock())
    limiter.take(1)
    limiter.forget(1)
    limiter.take(1)
