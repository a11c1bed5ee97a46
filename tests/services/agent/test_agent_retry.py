import random
import socket
import time

import pytest
from agent_helpers import ENROLMENT_TOKEN
from agent_mini_server import MiniAggregator

from fedloom.wire.control import EnrollRequest
from fedloom_agent import AgentError, AggregatorClient, Backoff, RetriesExhausted


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_full_jitter_waits_stay_under_the_capped_exponential_ceiling() -> None:
    longest = Backoff(base=0.5, cap=4.0, uniform=lambda low, high: high)
    assert [longest.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert longest.delay(10_000) == 4.0  # no overflow however long the outage
    jittered = Backoff(base=0.5, cap=4.0, uniform=random.Random(1).uniform)
    delays = [(n, jittered.delay(n)) for n in range(12) for _ in range(200)]
    assert all(0.0 <= d <= min(4.0, 0.5 * 2**n) for n, d in delays)
    assert len({round(d, 6) for _, d in delays}) > 1000  # jitter: no two clients wait in lockstep
    shortest = Backoff(base=0.5, cap=3.0, uniform=lambda low, high: low)
    assert shortest.delay(0, at_least=0.2) == 0.2 and shortest.delay(0, at_least=60) == 3.0  # Retry-After, capped


def test_an_unreachable_aggregator_is_retried_with_bounded_waits_then_reported() -> None:
    slept: list[float] = []
    backoff = Backoff(base=0.1, cap=0.3, max_retries=4, sleep=slept.append)
    client = AggregatorClient(f"http://127.0.0.1:{free_port()}", timeout=2.0, backoff=backoff)
    started = time.monotonic()
    with client, pytest.raises(RetriesExhausted, match="failed 5 times; last: ConnectError") as failure:
        client.next_task(0.0)
    assert failure.value.fatal and time.monotonic() - started < 2.0  # the injected sleep never really slept
    assert len(slept) == 4 and all(0.0 <= s <= min(0.3, 0.1 * 2**i) for i, s in enumerate(slept))


def test_busy_answers_are_retried_and_client_errors_are_raised_at_once(
    aggregator: MiniAggregator, server_url: str
) -> None:
    aggregator.failures = {"package": 2}
    slept: list[float] = []
    client = AggregatorClient(server_url, backoff=Backoff(base=0.01, cap=0.02, max_retries=3, sleep=slept.append))
    with client:
        enrollment = client.enroll(EnrollRequest(enrollment_token=ENROLMENT_TOKEN))
        with pytest.raises(AgentError, match="HTTP 401: unknown API token") as unauthorised:
            client.next_task(0.0)
        assert unauthorised.value.status == 401 and unauthorised.value.fatal and slept == []
        client.authorize(enrollment.api_token)
        assert client.package("fed-test", 0).round == 0 and len(slept) == 2  # two 503s, then the package
        with pytest.raises(AgentError, match="HTTP 404: no package for round 5") as missing:
            client.package("fed-test", 5)
        assert not missing.value.fatal and len(slept) == 2  # a 4xx is never retried
        with pytest.raises(AgentError, match="HTTP 403: unknown or already used enrolment token"):
            client.enroll(EnrollRequest(enrollment_token=ENROLMENT_TOKEN))
        aggregator.failures = {"package": 100}
        with pytest.raises(RetriesExhausted, match="failed 4 times; last: HTTP 503: busy, try again"):
            client.package("fed-test", 0)
