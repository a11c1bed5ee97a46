"""`RedisStateStore` survives a Redis restart: the same object reconnects (with backoff) and carries on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

import servers
from fedloom.stores import Guard
from fedloom.stores.redis_store import RedisStateStore


class RestartableRedis:
    """A private redis-server that a test can kill and bring back on the same port."""

    def __init__(self) -> None:
        self.proc, self.url = servers.start_redis()
        self.port = urlsplit(self.url).port

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def start_again(self) -> None:
        self.proc, _ = servers.start_redis(self.port)


@pytest.fixture
def own_redis() -> Iterator[RestartableRedis]:
    server = RestartableRedis()
    yield server
    servers.stop(server.proc)


def test_the_same_store_works_after_a_restart(own_redis: RestartableRedis) -> None:
    store = RedisStateStore(own_redis.url)
    store.set("k", b"before")
    store.ensure_group("events", "g")
    guard = Guard("round", "phase", b"open")
    assert store.hsetnx_guarded("h", "f", b"v", guard) == (False, None)  # its script is now cached by the server
    own_redis.kill()
    own_redis.start_again()
    assert store.get("k") is None  # the test server keeps nothing across restarts
    assert store.set("k", b"after") is True
    assert store.get("k") == b"after"
    store.rpush("q", b"job")
    assert store.blpop("q", 1.0) == b"job"
    store.hset("round", {"phase": b"open"})  # the restarted server lost the script: it is loaded again
    assert store.hsetnx_guarded("h", "f", b"v", guard) == (True, b"open")
    entry = store.xadd("events", {"n": b"1"})
    assert store.xreadgroup("events", "g", "c", 10, 0) == [(entry, {"n": b"1"})]  # group recreated on NOGROUP
    assert store.ping() is True
    store.close()


def test_a_call_made_while_redis_is_down_completes_once_it_is_back(own_redis: RestartableRedis) -> None:
    store = RedisStateStore(own_redis.url)
    assert store.ping() is True
    own_redis.kill()
    restarter = threading.Timer(0.5, own_redis.start_again)
    restarter.start()
    start = time.monotonic()
    assert store.incr("n") == 1
    assert 0.4 < time.monotonic() - start < 6.0
    restarter.join()
    store.close()


def test_ping_answers_false_while_redis_is_down(own_redis: RestartableRedis) -> None:
    store = RedisStateStore(own_redis.url, retries=0)
    assert store.ping() is True
    own_redis.kill()
    start = time.monotonic()
    assert store.ping() is False
    assert time.monotonic() - start < 2.0
    store.close()


def test_a_new_client_gets_the_unacked_entries_of_its_consumer_name(redis_url: str) -> None:
    crashed = RedisStateStore(redis_url)
    crashed.delete("jobs")
    ids = [crashed.xadd("jobs", {"n": str(i).encode()}) for i in range(2)]
    assert [i for i, _ in crashed.xreadgroup("jobs", "workers", "worker-1", 10, 0)] == ids
    crashed.close()  # "crash" without acking
    restarted = RedisStateStore(redis_url)
    assert [i for i, _ in restarted.xreadgroup("jobs", "workers", "worker-1", 10, 0)] == ids
    assert restarted.xack("jobs", "workers", *ids) == 2
    assert restarted.xreadgroup("jobs", "workers", "worker-1", 10, 0.05) == []
    restarted.close()
