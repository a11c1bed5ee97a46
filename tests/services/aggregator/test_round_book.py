"""RoundBook's upload intake on a real Redis and the in-process store: first upload wins, and an upload that
was stored is always in the round worker's final read, however the two race."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from fedloom.stores import MemoryStateStore
from fedloom.stores.redis_store import RedisStateStore
from fedloom_aggregator.rounds import RoundBook, upload_stream


@pytest.fixture(params=["memory", "redis"])
def book(request: pytest.FixtureRequest) -> RoundBook:
    if request.param == "memory":
        return RoundBook(MemoryStateStore())
    return RoundBook(RedisStateStore(request.getfixturevalue("redis_url")))  # shared server: a fid per test


def test_the_first_upload_wins_and_wakes_the_worker_once(book: RoundBook) -> None:
    fid = uuid.uuid4().hex
    book.open(fid, 0, "collecting", [1, 2], deadline=0.0)
    assert book.save_upload(fid, 0, 1, b"first") == (True, b"collecting")
    assert book.save_upload(fid, 0, 1, b"second") == (False, b"collecting")
    assert book.uploads(fid, 0) == {1: b"first"}
    assert book.store.xlen(upload_stream(fid)) == 1


def test_nothing_is_stored_outside_collecting(book: RoundBook) -> None:
    fid = uuid.uuid4().hex
    assert book.save_upload(fid, 3, 1, b"early") == (False, None)
    book.open(fid, 3, "open", [1], deadline=0.0)
    assert book.save_upload(fid, 3, 1, b"early") == (False, b"open")
    book.set_phase(fid, 3, "aggregating")
    assert book.save_upload(fid, 3, 1, b"late") == (False, b"aggregating")
    assert book.uploads(fid, 3) == {}
    assert book.store.xlen(upload_stream(fid)) == 0


def test_every_stored_upload_is_in_the_final_read_when_the_round_closes_under_it(book: RoundBook) -> None:
    fid = uuid.uuid4().hex
    clients = 4000
    book.open(fid, 0, "collecting", list(range(clients)), deadline=0.0)
    stored: list[int] = []
    closing = threading.Event()  # uploads past the first 100 wait for it, so the close lands among them

    def client(first: int) -> None:
        for cid in range(first, clients, 4):
            if cid >= 100:
                closing.wait()
            if book.save_upload(fid, 0, cid, b"x").stored:
                stored.append(cid)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    while len(stored) < 100:
        time.sleep(0.001)
    closing.set()
    book.set_phase(fid, 0, "aggregating")  # what the round worker does, then it reads the uploads
    final_read = set(book.uploads(fid, 0))
    for thread in threads:
        thread.join()
    assert 100 <= len(stored) < clients  # the round closed while uploads were coming in
    assert set(stored) == final_read
