"""In-process `StateStore`: the embedded default for the demo and the simulation (not a test double).

One lock guards a single key space, like one Redis database: a key holds bytes, a hash, a set, a list
or a stream, and using it as another kind raises `TypeError` (Redis answers WRONGTYPE). TTLs expire
lazily on access plus a periodic sweep. Blocking reads (`blpop`, `xreadgroup`) wait on a Condition
that every push and stream append notifies.
"""

from __future__ import annotations

import asyncio
import builtins
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from fedloom.stores._memory_stream import MemoryStream, parse_id
from fedloom.stores.protocol import Guard, GuardedWrite, Notice, StreamEntry, check_entry

_Value = bytes | dict[str, bytes] | set[str] | deque[bytes] | MemoryStream
_T = TypeVar("_T")
_SWEEP_EVERY_SECONDS = 1.0
ASYNC_POLL_SECONDS = 0.05


def _expiry(ttl_seconds: float | None) -> float | None:
    """The monotonic time a value set now with this TTL expires; refuses a TTL that is not positive."""
    if ttl_seconds is None:
        return None
    if ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be > 0, got {ttl_seconds}")
    return time.monotonic() + ttl_seconds


@dataclass
class _Slot:
    value: _Value
    expires_at: float | None = None  # time.monotonic() deadline


class MemoryStateStore:
    def __init__(self) -> None:
        self._data: dict[str, _Slot] = {}
        self._cond = threading.Condition(threading.Lock())
        self._next_sweep = time.monotonic() + _SWEEP_EVERY_SECONDS

    # --- key space helpers (call with the lock held) ---

    def _slot(self, key: str) -> _Slot | None:
        slot = self._data.get(key)
        if slot is not None and slot.expires_at is not None and slot.expires_at <= time.monotonic():
            del self._data[key]
            return None
        return slot

    def _get_as(self, key: str, kind: type[_T]) -> _T | None:
        slot = self._slot(key)
        if slot is None:
            return None
        if not isinstance(slot.value, kind):
            raise TypeError(f"WRONGTYPE: key {key!r} holds a {type(slot.value).__name__}, not a {kind.__name__}")
        return slot.value

    def _get_or_create(self, key: str, kind: type[_T], factory: Callable[[], _T]) -> _T:
        value = self._get_as(key, kind)
        if value is None:
            value = factory()
            self._data[key] = _Slot(value)  # type: ignore[arg-type]
        return value

    def _drop_if_empty(self, key: str, container: dict[str, bytes] | set[str] | deque[bytes]) -> None:
        if not container:
            del self._data[key]

    def _sweep(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_EVERY_SECONDS
        expired = [k for k, s in self._data.items() if s.expires_at is not None and s.expires_at <= now]
        for key in expired:
            del self._data[key]

    def _wait(self, deadline: float) -> bool:
        """Wait for a notification until deadline; False once the deadline has passed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self._cond.wait(remaining)
        return True

    # --- plain keys ---

    def get(self, key: str) -> bytes | None:
        with self._cond:
            return self._get_as(key, bytes)

    def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None, only_if_absent: bool = False) -> bool:
        expires_at = _expiry(ttl_seconds)
        with self._cond:
            self._sweep()
            if only_if_absent and self._slot(key) is not None:
                return False
            self._data[key] = _Slot(bytes(value), expires_at)
            return True

    def swap(self, key: str, expected: bytes | None, value: bytes | None, *, ttl_seconds: float | None = None) -> bool:
        with self._cond:
            if self._get_as(key, bytes) != expected:
                return False
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = _Slot(bytes(value), _expiry(ttl_seconds))
            return True

    def delete(self, *keys: str) -> int:
        with self._cond:
            present = [key for key in set(keys) if self._slot(key) is not None]
            for key in present:
                del self._data[key]
            return len(present)

    def take(self, key: str) -> bytes | None:
        with self._cond:
            value = self._get_as(key, bytes)
            if value is not None:
                del self._data[key]
            return value

    def incr(self, key: str, amount: int = 1) -> int:
        with self._cond:
            current = self._get_as(key, bytes)
            try:
                total = (0 if current is None else int(current)) + amount
            except ValueError:
                raise ValueError(f"value is not an integer (INCRBY {key})") from None
            slot = self._data.get(key)
            expires_at = None if slot is None else slot.expires_at
            self._data[key] = _Slot(str(total).encode(), expires_at)
            return total

    # --- hashes ---

    def hset(self, key: str, mapping: dict[str, bytes]) -> None:
        if not mapping:
            return
        with self._cond:
            self._get_or_create(key, dict, dict).update({f: bytes(v) for f, v in mapping.items()})

    def hsetnx(self, key: str, field: str, value: bytes) -> bool:
        with self._cond:
            fields: dict[str, bytes] = self._get_or_create(key, dict, dict)
            if field in fields:
                return False
            fields[field] = bytes(value)
            return True

    def hsetnx_guarded(
        self, key: str, field: str, value: bytes, guard: Guard, notice: Notice | None = None
    ) -> GuardedWrite:
        if notice is not None:
            check_entry(notice.fields, notice.maxlen)
        with self._cond:
            guard_fields: dict[str, bytes] | None = self._get_as(guard.key, dict)
            current = None if guard_fields is None else guard_fields.get(guard.field)
            if current != guard.expected:
                return GuardedWrite(False, current)
            fields: dict[str, bytes] = self._get_or_create(key, dict, dict)
            if field in fields:
                return GuardedWrite(False, current)
            fields[field] = bytes(value)
            if notice is not None:
                self._get_or_create(notice.stream, MemoryStream, MemoryStream).add(notice.fields, notice.maxlen)
                self._cond.notify_all()
            return GuardedWrite(True, current)

    def hget(self, key: str, field: str) -> bytes | None:
        with self._cond:
            fields: dict[str, bytes] | None = self._get_as(key, dict)
            return None if fields is None else fields.get(field)

    def hgetall(self, key: str) -> dict[str, bytes]:
        with self._cond:
            fields: dict[str, bytes] | None = self._get_as(key, dict)
            return {} if fields is None else dict(fields)

    def hlen(self, key: str) -> int:
        with self._cond:
            fields: dict[str, bytes] | None = self._get_as(key, dict)
            return 0 if fields is None else len(fields)

    def hdel(self, key: str, *fields: str) -> int:
        with self._cond:
            current: dict[str, bytes] | None = self._get_as(key, dict)
            if current is None:
                return 0
            removed = sum(1 for f in set(fields) if current.pop(f, None) is not None)
            self._drop_if_empty(key, current)
            return removed

    # --- sets ---

    def sadd(self, key: str, *members: str) -> int:
        if not members:
            return 0
        with self._cond:
            current: set[str] = self._get_or_create(key, set, set)
            before = len(current)
            current.update(members)
            return len(current) - before

    def srem(self, key: str, *members: str) -> int:
        with self._cond:
            current: set[str] | None = self._get_as(key, set)
            if current is None:
                return 0
            before = len(current)
            current.difference_update(members)
            self._drop_if_empty(key, current)
            return before - len(current)

    def smembers(self, key: str) -> builtins.set[str]:
        with self._cond:
            current: set[str] | None = self._get_as(key, set)
            return set() if current is None else set(current)

    # --- lists as queues ---

    def rpush(self, key: str, *values: bytes) -> int:
        with self._cond:
            if not values:
                return self._llen(key)
            queue: deque[bytes] = self._get_or_create(key, deque, deque)
            queue.extend(bytes(v) for v in values)
            self._cond.notify_all()
            return len(queue)

    def rpush_each(self, items: Sequence[tuple[str, bytes]]) -> None:
        with self._cond:
            for key, value in items:
                queue: deque[bytes] = self._get_or_create(key, deque, deque)
                queue.append(bytes(value))
            self._cond.notify_all()

    def blpop(self, key: str, timeout_seconds: float) -> bytes | None:
        deadline = time.monotonic() + max(timeout_seconds, 0.0)
        with self._cond:
            while True:
                queue: deque[bytes] | None = self._get_as(key, deque)
                if queue:
                    value = queue.popleft()
                    self._drop_if_empty(key, queue)
                    return value
                if not self._wait(deadline):
                    return None

    def llen(self, key: str) -> int:
        with self._cond:
            return self._llen(key)

    async def hget_async(self, key: str, field: str) -> bytes | None:
        return self.hget(key, field)  # a dict lookup under a lock held for microseconds: fine on the loop

    async def hsetnx_guarded_async(
        self, key: str, field: str, value: bytes, guard: Guard, notice: Notice | None = None
    ) -> GuardedWrite:
        return self.hsetnx_guarded(key, field, value, guard, notice)

    async def blpop_async(self, key: str, timeout_seconds: float) -> bytes | None:
        """Polls every ASYNC_POLL_SECONDS (the lock's Condition cannot wake an event loop)."""
        deadline = time.monotonic() + max(timeout_seconds, 0.0)
        while (value := self.blpop(key, 0)) is None and (remaining := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(remaining, ASYNC_POLL_SECONDS))
        return value

    async def close_async(self) -> None:
        return None

    def _llen(self, key: str) -> int:
        queue: deque[bytes] | None = self._get_as(key, deque)
        return 0 if queue is None else len(queue)

    # --- streams ---

    def xadd(self, stream: str, fields: dict[str, bytes], *, maxlen: int | None = None) -> str:
        check_entry(fields, maxlen)
        with self._cond:
            entry_id = self._get_or_create(stream, MemoryStream, MemoryStream).add(fields, maxlen)
            self._cond.notify_all()
            return entry_id

    def ensure_group(self, stream: str, group: str) -> None:
        with self._cond:
            self._get_or_create(stream, MemoryStream, MemoryStream).ensure_group(group)

    def xreadgroup(self, stream: str, group: str, consumer: str, count: int, block_seconds: float) -> list[StreamEntry]:
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        deadline = time.monotonic() + max(block_seconds, 0.0)
        with self._cond:
            while True:
                entries = self._stream_for_group(stream, group)
                pending = entries.read_pending(group, consumer, count)
                if pending:
                    return pending
                fresh = entries.read_new(group, consumer, count)
                if fresh or not self._wait(deadline):
                    return fresh

    def _stream_for_group(self, stream: str, group: str) -> MemoryStream:
        entries = self._get_or_create(stream, MemoryStream, MemoryStream)
        entries.ensure_group(group)
        return entries

    def xack(self, stream: str, group: str, *ids: str) -> int:
        for entry_id in ids:
            parse_id(entry_id)
        with self._cond:
            entries = self._get_as(stream, MemoryStream)
            return 0 if entries is None else entries.ack(group, ids)

    def xlen(self, stream: str) -> int:
        with self._cond:
            entries = self._get_as(stream, MemoryStream)
            return 0 if entries is None else len(entries)

    # --- health ---

    def ping(self) -> bool:
        return True
