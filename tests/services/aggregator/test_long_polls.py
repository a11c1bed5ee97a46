"""Clients long-polling for tasks hold no worker thread: with more pollers waiting than the thread pool has
threads (40), the aggregator still answers routes that need one at once (on Redis, as deployed)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from conftest import ADMIN, enroll
from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving

POLLERS = 60  # > anyio's default of 40 worker threads
POLL_SECONDS = 6.0


def test_sixty_waiting_pollers_do_not_block_other_requests(redis_url: str, tmp_path: Path) -> None:
    settings = AggregatorSettings(admin_token=ADMIN, artifact_dir=tmp_path, redis_url=redis_url)
    with (
        serving(create_app(settings)) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30) as admin,
        ThreadPoolExecutor(POLLERS) as pool,
    ):
        clients = [enroll(url, admin, f"poller-{i}")[1] for i in range(POLLERS)]
        polls = [pool.submit(c.get, "/v1/tasks/next", params={"wait": POLL_SECONDS}) for c in clients]
        time.sleep(1.0)  # every poll has reached the server and waits
        assert admin.get("/v1/clients").status_code == 200  # a `def` route: it needs a worker thread
        still_waiting = sum(not poll.done() for poll in polls)
        statuses = {poll.result().status_code for poll in polls}
        for client in clients:
            client.close()
    assert still_waiting == POLLERS  # answered while every poll was still waiting, not after they timed out
    assert statuses == {204}
