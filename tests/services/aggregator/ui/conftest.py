"""A live federation per test module (the browser test, the CLI tests): a real aggregator over HTTP with Redis,
two client agents enrolled through the REST API, and a 2-round FedKTL federation with the built-in generator
on synthetic 3x32x32 data (small models, one torch thread). Module scope, because pytest keeps a "package"
fixture of a folder without __init__.py until the session ends, and later tests flush that Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
import redis
import torch
from live_federation import ADMIN, CLIENTS, FEDERATION, LiveFederation, start_agent

from fedloom_aggregator.app import create_app
from fedloom_aggregator.settings import AggregatorSettings
from servers import serving


@pytest.fixture(scope="module")
def live(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveFederation]:
    """A started (still running) federation; `live.finished()` waits for its end."""
    root = tmp_path_factory.mktemp("dashboard")
    with redis.Redis.from_url(redis_url) as db:
        db.flushdb()
    settings = AggregatorSettings(
        admin_token=ADMIN, redis_url=redis_url, artifact_dir=root / "artifacts", ui_refresh_seconds=1.0
    )
    threads, stop = torch.get_num_threads(), threading.Event()
    torch.set_num_threads(1)
    try:
        with serving(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as admin:
            admin.headers["Authorization"] = f"Bearer {ADMIN}"
            agents = [start_agent(url, admin, index, root, stop) for index in range(CLIENTS)]
            fid = admin.post("/v1/federations", json=FEDERATION).json()["federation_id"]
            assert admin.post(f"/v1/federations/{fid}/start").status_code == 200
            yield LiveFederation(url, fid, admin, [root / f"agent-{i}" for i in range(CLIENTS)])
            stop.set()
            for agent in agents:
                agent.join(30)
    finally:
        torch.set_num_threads(threads)
