"""Leases of federation loops on the in-process store: one holder, renewal, loss, release, and the fence."""

from __future__ import annotations

import time

import pytest

from fedloom.stores import MemoryStateStore
from fedloom_aggregator.leases import Lease, LeaseKeeper, LeaseLost, lease_key


def test_one_holder_at_a_time_and_release_frees_it() -> None:
    store = MemoryStateStore()
    a, b = Lease(store, "f1", "a", 5.0), Lease(store, "f1", "b", 5.0)
    assert a.acquire() and not b.acquire()
    a.release()
    assert b.acquire() and store.get(lease_key("f1")) == b"b"


def test_a_keeper_renews_past_the_lease_length() -> None:
    store = MemoryStateStore()
    lease = Lease(store, "f1", "a", 0.3)
    assert lease.acquire()
    keeper = LeaseKeeper(lease).start()
    time.sleep(1.0)
    assert store.get(lease_key("f1")) == b"a" and not lease.lost.is_set()
    keeper.stop()
    time.sleep(0.6)
    assert Lease(store, "f1", "b", 5.0).acquire()  # no longer renewed: it lapsed


def test_a_lease_taken_over_is_lost_and_fences_every_write() -> None:
    store = MemoryStateStore()
    lease = Lease(store, "f1", "a", 0.2)
    assert lease.acquire()
    lease.check()  # held: no error
    time.sleep(0.4)
    assert Lease(store, "f1", "b", 5.0).acquire()
    assert lease.renew() is False and lease.lost.is_set()
    with pytest.raises(LeaseLost, match="replica a lost its lease"):
        lease.check()
    lease.release()  # releasing someone else's lease does nothing
    assert store.get(lease_key("f1")) == b"b"
