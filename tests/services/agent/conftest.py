"""Fixtures of the agent tests: one thread for torch, the simulator's reference run, a live mini aggregator."""

from collections.abc import Iterator

import pytest
from agent_helpers import (
    CLIENT_ID,
    ENROLMENT_TOKEN,
    RecordingTransport,
    federation_config,
    one_thread,
    simulate_reference,
)
from agent_mini_server import MiniAggregator, serving


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture(scope="session")
def reference() -> RecordingTransport:
    """What the simulator uploads and reports for the test federation (computed once)."""
    with one_thread():
        return simulate_reference()


@pytest.fixture
def aggregator() -> MiniAggregator:
    return MiniAggregator(federation_config(), {ENROLMENT_TOKEN}, first_client_id=CLIENT_ID)


@pytest.fixture
def server_url(aggregator: MiniAggregator) -> Iterator[str]:
    with serving(aggregator) as url:
        yield url
