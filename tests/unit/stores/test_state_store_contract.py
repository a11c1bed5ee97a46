"""The `StateStore` contract, run on `MemoryStateStore` and on `RedisStateStore` (a real redis-server)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

from fedloom.stores import Guard, Notice, StateStore

SHORT_TTL = 0.15


def _later(delay: float, action: Callable[[], object]) -> threading.Thread:
    thread = threading.Timer(delay, action)
    thread.start()
    return thread


# --- plain keys ---


def test_get_missing_key_is_none(state_store: StateStore) -> None:
    assert state_store.get("nope") is None


def test_set_get_round_trips_any_bytes(state_store: StateStore) -> None:
    for value in (b"", b"\x00\xff binary \r\n", bytes(range(256)) * 40):
        assert state_store.set("k", value) is True
        assert state_store.get("k") == value


def test_ttl_expires_the_key(state_store: StateStore) -> None:
    state_store.set("k", b"v", ttl_seconds=SHORT_TTL)
    assert state_store.get("k") == b"v"
    time.sleep(SHORT_TTL * 2)
    assert state_store.get("k") is None


def test_plain_set_clears_an_earlier_ttl(state_store: StateStore) -> None:
    state_store.set("k", b"1", ttl_seconds=SHORT_TTL)
    state_store.set("k", b"2")
    time.sleep(SHORT_TTL * 2)
    assert state_store.get("k") == b"2"


@pytest.mark.parametrize("ttl", [0, -1.0])
def test_ttl_must_be_positive(state_store: StateStore, ttl: float) -> None:
    with pytest.raises(ValueError):
        state_store.set("k", b"v", ttl_seconds=ttl)


def test_only_if_absent_keeps_the_first_value(state_store: StateStore) -> None:
    assert state_store.set("lock", b"a", only_if_absent=True, ttl_seconds=SHORT_TTL) is True
    assert state_store.set("lock", b"b", only_if_absent=True) is False
    assert state_store.get("lock") == b"a"
    time.sleep(SHORT_TTL * 2)
    assert state_store.set("lock", b"c", only_if_absent=True) is True
    assert state_store.get("lock") == b"c"


def test_delete_counts_existing_keys_of_any_kind(state_store: StateStore) -> None:
    state_store.set("a", b"1")
    state_store.hset("h", {"f": b"1"})
    state_store.sadd("s", "m")
    state_store.rpush("l", b"x")
    state_store.xadd("x", {"f": b"1"})
    assert state_store.delete("a", "h", "s", "l", "x", "missing") == 5
    assert state_store.delete("a") == 0
    assert state_store.delete() == 0
    assert (state_store.get("a"), state_store.hgetall("h"), state_store.llen("l"), state_store.xlen("x")) == (
        None,
        {},
        0,
        0,
    )


def test_take_is_single_use(state_store: StateStore) -> None:
    state_store.set("token", b"t")
    assert state_store.take("token") == b"t"
    assert state_store.take("token") is None
    assert state_store.get("token") is None


def test_take_races_have_exactly_one_winner(state_store: StateStore) -> None:
    state_store.set("token", b"t")
    results: list[bytes | None] = []
    threads = [threading.Thread(target=lambda: results.append(state_store.take("token"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=lambda r: r is None) == [b"t"] + [None] * 7


def test_incr_counts_from_zero_and_keeps_the_ttl(state_store: StateStore) -> None:
    assert state_store.incr("n") == 1
    assert state_store.incr("n", 5) == 6
    assert state_store.incr("n", -10) == -4
    assert state_store.get("n") == b"-4"
    state_store.set("t", b"7", ttl_seconds=SHORT_TTL)
    assert state_store.incr("t") == 8
    time.sleep(SHORT_TTL * 2)
    assert state_store.get("t") is None


# --- hashes ---


def test_hash_fields(state_store: StateStore) -> None:
    state_store.hset("h", {"a": b"1", "b": b"2"})
    state_store.hset("h", {"b": b"3"})
    state_store.hset("h", {})
    assert state_store.hget("h", "b") == b"3"
    assert state_store.hget("h", "zz") is None
    assert state_store.hget("missing", "a") is None
    assert state_store.hgetall("h") == {"a": b"1", "b": b"3"}
    assert state_store.hgetall("missing") == {}
    assert state_store.hlen("h") == 2
    assert state_store.hlen("missing") == 0


def test_hsetnx_is_idempotent(state_store: StateStore) -> None:
    assert state_store.hsetnx("uploads", "client-1", b"first") is True
    assert state_store.hsetnx("uploads", "client-1", b"second") is False
    assert state_store.hget("uploads", "client-1") == b"first"


PHASE = Guard("round", "phase", b"collecting")


def test_hsetnx_guarded_writes_once_and_notifies_once(state_store: StateStore) -> None:
    state_store.hset("round", {"phase": b"collecting"})
    notice = Notice("wake", {"client": b"7"}, maxlen=10)
    assert state_store.hsetnx_guarded("uploads", "7", b"first", PHASE, notice) == (True, b"collecting")
    assert state_store.hsetnx_guarded("uploads", "7", b"again", PHASE, notice) == (False, b"collecting")
    assert state_store.hget("uploads", "7") == b"first"
    assert [fields for _, fields in state_store.xreadgroup("wake", "g", "c", 10, 0)] == [{"client": b"7"}]


def test_hsetnx_guarded_writes_nothing_when_the_guard_differs(state_store: StateStore) -> None:
    assert state_store.hsetnx_guarded("uploads", "7", b"x", PHASE, Notice("wake", {"c": b"7"})) == (False, None)
    state_store.hset("round", {"phase": b"aggregating"})
    assert state_store.hsetnx_guarded("uploads", "7", b"x", PHASE) == (False, b"aggregating")
    assert state_store.hgetall("uploads") == {}
    assert state_store.xlen("wake") == 0


def test_hsetnx_guarded_trims_its_notices_and_refuses_an_empty_one(state_store: StateStore) -> None:
    state_store.hset("round", {"phase": b"collecting"})
    for i in range(3):
        state_store.hsetnx_guarded("uploads", str(i), b"x", PHASE, Notice("wake", {"c": str(i).encode()}, maxlen=2))
    assert state_store.xlen("wake") == 2
    with pytest.raises(ValueError, match="at least one field"):
        state_store.hsetnx_guarded("uploads", "9", b"x", PHASE, Notice("wake", {}))
    assert state_store.hget("uploads", "9") is None


def test_hsetnx_guarded_async_is_the_same_step_awaited(state_store: StateStore) -> None:
    async def scenario() -> list[tuple[bool, bytes | None]]:
        notice = Notice("wake", {"client": b"7"})
        got = [await state_store.hsetnx_guarded_async("uploads", "7", b"x", PHASE, notice)]
        state_store.hset("round", {"phase": b"collecting"})
        got += [await state_store.hsetnx_guarded_async("uploads", "7", b"first", PHASE, notice) for _ in range(2)]
        await state_store.close_async()
        return got

    assert asyncio.run(scenario()) == [(False, None), (True, b"collecting"), (False, b"collecting")]
    assert state_store.hgetall("uploads") == {"7": b"first"}
    assert state_store.xlen("wake") == 1


def test_hdel_counts_and_an_empty_hash_disappears(state_store: StateStore) -> None:
    state_store.hset("h", {"a": b"1", "b": b"2"})
    assert state_store.hdel("h", "a", "zz") == 1
    assert state_store.hdel("h") == 0
    assert state_store.hdel("h", "b") == 1
    assert state_store.delete("h") == 0


# --- sets ---


def test_set_members(state_store: StateStore) -> None:
    assert state_store.sadd("s", "a", "b", "a") == 2
    assert state_store.sadd("s", "b", "c") == 1
    assert state_store.sadd("s") == 0
    assert state_store.smembers("s") == {"a", "b", "c"}
    assert state_store.srem("s", "a", "zz") == 1
    assert state_store.srem("s", "b", "c") == 2
    assert state_store.smembers("s") == set()
    assert state_store.delete("s") == 0


# --- lists as queues ---


def test_queue_is_fifo(state_store: StateStore) -> None:
    assert state_store.rpush("q", b"1", b"2") == 2
    assert state_store.rpush("q", b"3") == 3
    assert state_store.llen("q") == 3
    assert [state_store.blpop("q", 0) for _ in range(4)] == [b"1", b"2", b"3", None]
    assert state_store.llen("q") == 0


def test_rpush_each_appends_to_every_list_in_order(state_store: StateStore) -> None:
    state_store.rpush("q1", b"old")
    state_store.rpush_each([("q1", b"a"), ("q2", b"b"), ("q1", b"c")])
    state_store.rpush_each([])
    assert [state_store.blpop("q1", 0) for _ in range(4)] == [b"old", b"a", b"c", None]
    assert state_store.blpop("q2", 0) == b"b"


def test_rpush_each_wakes_a_waiting_reader(state_store: StateStore) -> None:
    thread = _later(0.1, lambda: state_store.rpush_each([("q", b"task")]))
    assert state_store.blpop("q", 5.0) == b"task"
    thread.join()


def test_awaitable_reads_see_what_the_blocking_calls_wrote(state_store: StateStore) -> None:
    async def scenario() -> list[bytes | None]:
        state_store.hset("h", {"a": b"1"})
        state_store.rpush("q", b"queued")
        waiter = _later(0.1, lambda: state_store.rpush("later", b"task"))
        got = [
            await state_store.hget_async("h", "a"),
            await state_store.hget_async("h", "zz"),
            await state_store.blpop_async("q", 0),
            await state_store.blpop_async("q", 0),
            await state_store.blpop_async("later", 5.0),
        ]
        waiter.join()
        await state_store.close_async()
        return got

    assert asyncio.run(scenario()) == [b"1", None, b"queued", None, b"task"]


def test_blpop_async_times_out_and_leaves_the_loop_free(state_store: StateStore) -> None:
    async def scenario() -> tuple[bytes | None, float, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        beat = asyncio.create_task(ticker())
        start = time.monotonic()
        popped = await state_store.blpop_async("q", 0.3)
        beat.cancel()
        await state_store.close_async()
        return popped, time.monotonic() - start, ticks

    popped, waited, ticks = asyncio.run(scenario())
    assert popped is None and 0.25 <= waited < 1.5
    assert ticks >= 10  # the loop ran other work while the pop waited


def test_blpop_times_out_after_a_fractional_timeout(state_store: StateStore) -> None:
    start = time.monotonic()
    assert state_store.blpop("q", 0.2) is None
    assert 0.15 <= time.monotonic() - start < 1.5


def test_blpop_wakes_up_when_another_thread_pushes(state_store: StateStore) -> None:
    pusher = _later(0.2, lambda: state_store.rpush("q", b"job"))
    start = time.monotonic()
    assert state_store.blpop("q", 5.0) == b"job"
    assert time.monotonic() - start < 2.0
    pusher.join()


# --- streams ---


def test_xadd_ids_grow_and_maxlen_trims_exactly(state_store: StateStore) -> None:
    ids = [state_store.xadd("x", {"n": str(i).encode()}) for i in range(5)]
    as_tuples = [tuple(int(part) for part in i.split("-")) for i in ids]
    assert as_tuples == sorted(as_tuples) and len(set(ids)) == 5
    assert state_store.xlen("x") == 5
    state_store.xadd("x", {"n": b"5"}, maxlen=3)
    assert state_store.xlen("x") == 3
    assert state_store.xlen("missing") == 0


def test_xadd_needs_a_field(state_store: StateStore) -> None:
    with pytest.raises(ValueError):
        state_store.xadd("x", {})


def test_group_starts_at_the_beginning_and_ensure_group_is_idempotent(state_store: StateStore) -> None:
    early = state_store.xadd("x", {"n": b"0"})
    state_store.ensure_group("x", "g")
    state_store.ensure_group("x", "g")
    state_store.ensure_group("empty", "g")  # creates the stream
    assert state_store.xlen("empty") == 0
    assert state_store.xreadgroup("x", "g", "c", 10, 0) == [(early, {"n": b"0"})]


def test_consumers_in_a_group_share_entries_and_groups_each_get_all(state_store: StateStore) -> None:
    state_store.ensure_group("x", "g1")
    state_store.ensure_group("x", "g2")
    ids = [state_store.xadd("x", {"n": str(i).encode(), "kind": b"update"}) for i in range(4)]
    first = state_store.xreadgroup("x", "g1", "a", 3, 0)
    second = state_store.xreadgroup("x", "g1", "b", 10, 0)
    assert [i for i, _ in first] == ids[:3] and [i for i, _ in second] == ids[3:]
    assert first[0][1] == {"n": b"0", "kind": b"update"}
    assert [i for i, _ in state_store.xreadgroup("x", "g2", "a", 10, 0)] == ids


def test_unacked_entries_are_redelivered_to_the_same_consumer(state_store: StateStore) -> None:
    ids = [state_store.xadd("x", {"n": str(i).encode()}) for i in range(3)]
    state_store.ensure_group("x", "g")
    assert [i for i, _ in state_store.xreadgroup("x", "g", "worker-1", 2, 0)] == ids[:2]
    # "crash": worker-1 never acks; after a restart under the same name it gets the same entries first
    assert [i for i, _ in state_store.xreadgroup("x", "g", "worker-1", 10, 0)] == ids[:2]
    assert state_store.xreadgroup("x", "g", "worker-2", 10, 0) == [(ids[2], {"n": b"2"})]
    assert state_store.xack("x", "g", *ids[:2]) == 2
    assert state_store.xreadgroup("x", "g", "worker-1", 10, 0) == []


def test_xack_counts_only_pending_entries(state_store: StateStore) -> None:
    entry = state_store.xadd("x", {"n": b"0"})
    state_store.ensure_group("x", "g")
    assert state_store.xack("x", "g", entry) == 0  # not delivered yet
    state_store.xreadgroup("x", "g", "c", 1, 0)
    assert state_store.xack("x", "g", entry) == 1
    assert state_store.xack("x", "g", entry) == 0
    assert state_store.xack("x", "g") == 0
    assert state_store.xack("x", "other", entry) == 0
    assert state_store.xack("missing", "g", entry) == 0


def test_xreadgroup_creates_a_missing_group(state_store: StateStore) -> None:
    assert state_store.xreadgroup("fresh", "g", "c", 5, 0) == []
    entry = state_store.xadd("fresh", {"n": b"1"})
    assert state_store.xreadgroup("fresh", "g", "c", 5, 0) == [(entry, {"n": b"1"})]


def test_xreadgroup_times_out_and_wakes_up_on_xadd(state_store: StateStore) -> None:
    state_store.ensure_group("x", "g")
    start = time.monotonic()
    assert state_store.xreadgroup("x", "g", "c", 5, 0.2) == []
    assert 0.15 <= time.monotonic() - start < 1.5
    producer = _later(0.2, lambda: state_store.xadd("x", {"n": b"1"}))
    start = time.monotonic()
    assert [fields for _, fields in state_store.xreadgroup("x", "g", "c", 5, 5.0)] == [{"n": b"1"}]
    assert time.monotonic() - start < 2.0
    producer.join()


def test_pending_entries_trimmed_away_are_skipped(state_store: StateStore) -> None:
    state_store.ensure_group("x", "g")
    state_store.xadd("x", {"n": b"0"})
    state_store.xreadgroup("x", "g", "c", 1, 0)
    kept = [state_store.xadd("x", {"n": str(i).encode()}, maxlen=2) for i in (1, 2)]
    assert [i for i, _ in state_store.xreadgroup("x", "g", "c", 10, 0)] == kept


def test_count_must_be_positive(state_store: StateStore) -> None:
    with pytest.raises(ValueError):
        state_store.xreadgroup("x", "g", "c", 0, 0)


def test_ping(state_store: StateStore) -> None:
    assert state_store.ping() is True


# --- misuse reads the same on both ---


def test_using_a_key_as_another_kind_raises_type_error(state_store: StateStore) -> None:
    state_store.set("plain", b"v")
    state_store.rpush("queue", b"v")
    for misuse in (
        lambda: state_store.hget("plain", "f"),
        lambda: state_store.sadd("plain", "m"),
        lambda: state_store.rpush("plain", b"x"),
        lambda: state_store.xadd("plain", {"f": b"1"}),
        lambda: state_store.get("queue"),
        lambda: state_store.take("queue"),
    ):
        with pytest.raises(TypeError, match="WRONGTYPE"):
            misuse()


def test_incr_on_a_non_integer_raises_value_error(state_store: StateStore) -> None:
    state_store.set("k", b"abc")
    with pytest.raises(ValueError, match="not an integer"):
        state_store.incr("k")
    assert state_store.get("k") == b"abc"


# --- swap (leases) ---


def test_swap_from_absent_sets_once(state_store: StateStore) -> None:
    assert state_store.swap("lease", None, b"a", ttl_seconds=5) is True
    assert state_store.swap("lease", None, b"b", ttl_seconds=5) is False
    assert state_store.get("lease") == b"a"


def test_swap_renews_and_releases_only_for_the_holder(state_store: StateStore) -> None:
    state_store.swap("lease", None, b"a", ttl_seconds=SHORT_TTL)
    assert state_store.swap("lease", b"b", b"b", ttl_seconds=5) is False  # not b's
    assert state_store.swap("lease", b"a", b"a", ttl_seconds=5) is True  # renewed past SHORT_TTL
    time.sleep(SHORT_TTL * 2)
    assert state_store.get("lease") == b"a"
    assert state_store.swap("lease", b"b", None) is False
    assert state_store.swap("lease", b"a", None) is True
    assert state_store.get("lease") is None


def test_an_expired_lease_can_be_taken(state_store: StateStore) -> None:
    state_store.swap("lease", None, b"a", ttl_seconds=SHORT_TTL)
    time.sleep(SHORT_TTL * 2)
    assert state_store.swap("lease", b"a", b"a", ttl_seconds=5) is False  # too late to renew
    assert state_store.swap("lease", None, b"b", ttl_seconds=5) is True


def test_swap_races_have_exactly_one_winner(state_store: StateStore) -> None:
    won: list[int] = []
    barrier = threading.Barrier(8)

    def contender(i: int) -> None:
        barrier.wait()
        if state_store.swap("lease", None, str(i).encode(), ttl_seconds=5):
            won.append(i)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and state_store.get("lease") == str(won[0]).encode()
