"""Redis SIGKILLed mid-round and started again (append-only file, as in production): the aggregator and
the generator reconnect and carry on; the round in progress and the next one (generation jobs through
the Redis stream to the generator's worker) complete, and both services report ready again."""

from __future__ import annotations

import time

import httpx
from cluster import FEDKTL_CLASSES, FEDKTL_SHAPE, REMOTE_FEDKTL, Cluster, report_all, upload_all

CLASSES, SHAPE, CONFIG = FEDKTL_CLASSES, FEDKTL_SHAPE, REMOTE_FEDKTL
OUTAGE_SECONDS = 12.0


def test_services_reconnect_to_a_restarted_redis_and_carry_on(cluster: Cluster) -> None:
    generator = cluster.start_generator()
    aggregator = cluster.start_aggregator()
    clients = [cluster.enrol() for _ in range(2)]
    fid = cluster.create(CONFIG)
    cluster.wait_phase(fid, 0, ("collecting",))
    assert clients[0].upload(fid, 0, *SHAPE).json()["duplicate"] is False

    cluster.kill_redis()
    for url in (cluster.aggregator_url, cluster.generator_url):
        assert httpx.get(f"{url}/readyz", timeout=30).status_code == 503
    time.sleep(OUTAGE_SECONDS)  # longer than the Redis client's own retries: the round loop must wait it out
    cluster.start_redis_again()

    assert clients[1].upload(fid, 0, *SHAPE).json()["duplicate"] is False
    assert clients[0].upload(fid, 0, *SHAPE).json()["duplicate"] is True  # kept across the restart
    report_all(cluster, clients, fid, 0)
    upload_all(cluster, clients, fid, 1, SHAPE)
    state = cluster.wait_done(fid)
    assert state["status"] == "finished", state
    assert [r["uploads"] for r in state["rounds"]] == [2, 2]  # type: ignore[attr-defined]
    assert cluster.package(fid, 2).tensors["images"].shape == (CLASSES, 1, 8, 8)
    assert "resuming once the state store answers" in aggregator.tail(400)
    for member, url in ((aggregator, cluster.aggregator_url), (generator, cluster.generator_url)):
        assert member.process.poll() is None
        assert httpx.get(f"{url}/readyz").status_code == 200
