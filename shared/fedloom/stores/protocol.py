"""Storage contracts for the services.

`StateStore` is the small set of Redis operations FedLoom uses, so one coordinator works on a real
Redis (services) and on the in-process implementation (embedded demo, simulation). `ArtifactStore`
holds blobs (round packages, generated images, checkpoints, results) in S3/MinIO or a local folder.
Values are bytes; callers encode with `fedloom.wire` (msgpack) or JSON.

Shared semantics (both state stores, checked by one contract test-suite):
- keys, hash fields, set members, consumer names and stream field names are `str`; values are `bytes`;
- a hash, set or list left empty disappears (like Redis); `delete` removes a key of any kind;
- `set` replaces whatever the key held and clears its TTL unless `ttl_seconds` is given;
- a stream group created by `ensure_group` (or by the first `xreadgroup`) starts at the stream's
  beginning, so entries added before a consumer started are not lost; delivery is at-least-once.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

StreamEntry = tuple[str, dict[str, bytes]]  # (entry id, fields)


@dataclass(frozen=True)
class Guard:
    """A hash field that must hold `expected` for a guarded write to happen (a round's phase, say)."""

    key: str
    field: str
    expected: bytes


@dataclass(frozen=True)
class Notice:
    """A stream entry appended when a guarded write stores a new field (a wake-up for a consumer)."""

    stream: str
    fields: dict[str, bytes]
    maxlen: int | None = None


def check_entry(fields: dict[str, bytes], maxlen: int | None) -> None:
    """ValueError for a stream entry neither store accepts: no fields, or a negative maxlen."""
    if not fields:
        raise ValueError("a stream entry needs at least one field")
    if maxlen is not None and maxlen < 0:
        raise ValueError(f"maxlen must be >= 0, got {maxlen}")


class GuardedWrite(NamedTuple):
    stored: bool
    """The field was absent and now holds the value (False: a repeat, or the guard did not hold)."""
    guard_value: bytes | None
    """What the guard field held; the write was attempted only when it equalled `Guard.expected`."""


class StateStore(Protocol):
    # plain keys
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None, only_if_absent: bool = False) -> bool:
        """Store value; with only_if_absent, do nothing and return False when the key exists."""
        ...

    def swap(self, key: str, expected: bytes | None, value: bytes | None, *, ttl_seconds: float | None = None) -> bool:
        """Atomically: if the key holds `expected` (None: is absent), set it to `value` (None: delete it) with the
        TTL, and return True; else change nothing and return False. Leases are built on it."""
        ...

    def delete(self, *keys: str) -> int: ...
    def take(self, key: str) -> bytes | None:
        """Atomically read and delete (GETDEL): single-use tokens."""
        ...

    def incr(self, key: str, amount: int = 1) -> int:
        """Add to an integer value (a missing key counts as 0); keeps the key's TTL."""
        ...

    # hashes
    def hset(self, key: str, mapping: dict[str, bytes]) -> None: ...
    def hsetnx(self, key: str, field: str, value: bytes) -> bool:
        """Set a hash field only if absent; True if it was set (idempotent uploads)."""
        ...

    def hsetnx_guarded(
        self, key: str, field: str, value: bytes, guard: Guard, notice: Notice | None = None
    ) -> GuardedWrite:
        """In one atomic step: if the guard holds, `hsetnx`, and when that stored something new, append
        `notice` to its stream. One round trip; no writer can change the guard field in between."""
        ...

    def hget(self, key: str, field: str) -> bytes | None: ...
    def hgetall(self, key: str) -> dict[str, bytes]: ...
    def hlen(self, key: str) -> int: ...
    def hdel(self, key: str, *fields: str) -> int: ...
    # sets
    def sadd(self, key: str, *members: str) -> int: ...
    def srem(self, key: str, *members: str) -> int: ...
    def smembers(self, key: str) -> builtins.set[str]: ...
    # lists as queues
    def rpush(self, key: str, *values: bytes) -> int: ...
    def rpush_each(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Append each value to its own list, in order, in one round trip (task fan-out to many clients)."""
        ...

    def blpop(self, key: str, timeout_seconds: float) -> bytes | None:
        """Pop the oldest value, waiting up to timeout_seconds (0 = do not wait); None on timeout."""
        ...

    def llen(self, key: str) -> int: ...
    # the API's hot path, awaitable: served on the event loop, no worker thread held
    async def hget_async(self, key: str, field: str) -> bytes | None: ...
    async def hsetnx_guarded_async(
        self, key: str, field: str, value: bytes, guard: Guard, notice: Notice | None = None
    ) -> GuardedWrite: ...
    async def blpop_async(self, key: str, timeout_seconds: float) -> bytes | None:
        """`blpop` without blocking the event loop: a long poll holds no thread while it waits."""
        ...

    async def close_async(self) -> None:
        """Release what the awaitable methods opened (call on the loop that used them)."""
        ...

    # streams (consumer groups give at-least-once delivery across restarts)
    def xadd(self, stream: str, fields: dict[str, bytes], *, maxlen: int | None = None) -> str:
        """Append an entry (at least one field); with maxlen, trim the oldest entries to exactly maxlen."""
        ...

    def ensure_group(self, stream: str, group: str) -> None:
        """Create the stream and the group (reading from the start) unless they exist."""
        ...

    def xreadgroup(self, stream: str, group: str, consumer: str, count: int, block_seconds: float) -> list[StreamEntry]:
        """Up to count entries: this consumer's unacknowledged ones first, else new ones, waiting up to
        block_seconds (0 = do not wait) for new ones. Entries stay pending until `xack`ed, so a consumer
        that restarts under the same name gets them again. Creates the group if it is missing."""
        ...

    def xack(self, stream: str, group: str, *ids: str) -> int: ...
    def xlen(self, stream: str) -> int: ...
    # health
    def ping(self) -> bool: ...


class ArtifactStore(Protocol):
    """Keys are relative '/'-separated paths (see `fedloom.stores._keys`); bad ones raise `InvalidArtifactKey`."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...
    def get(self, key: str) -> bytes:
        """The object's bytes; raises `ArtifactNotFound` if absent."""
        ...

    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str) -> list[str]:
        """Every key starting with prefix (a plain string prefix, as in S3), sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    def ping(self) -> bool: ...
