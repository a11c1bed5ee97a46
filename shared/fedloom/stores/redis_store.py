"""`StateStore` on a real Redis (>= 6.2 for GETDEL and fractional BLPOP timeouts).

One client with a connection pool, bytes in and out (RESP2, no decoding). Connection errors and
timeouts are retried with exponential backoff on a fresh connection, so a service carries on after
Redis restarts (what the restarted Redis still holds depends on its persistence). Blocking reads are
issued in slices shorter than the socket timeout, so a long wait never looks like a dead server.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Sequence
from typing import Any, cast

import redis
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from redis.typing import EncodableT, FieldT

from fedloom.stores._redis_scripts import GUARDED_HSETNX, SWAP, guarded_hsetnx_call, swap_args
from fedloom.stores.errors import StoreUnavailable
from fedloom.stores.protocol import Guard, GuardedWrite, Notice, StreamEntry, check_entry

SOCKET_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.0
BLOCK_SLICE_SECONDS = 5.0  # < SOCKET_TIMEOUT_SECONDS
RETRIES = 8  # backoff 0.1 s doubling, capped at 2 s: ~9 s of retrying before an error surfaces
HEALTH_CHECK_SECONDS = 30
PROBE_SECONDS = 1.0


def _bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def _milliseconds(ttl_seconds: float | None) -> int | None:
    """A TTL as Redis' PX; refuses a TTL that is not positive."""
    if ttl_seconds is None:
        return None
    if ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be > 0, got {ttl_seconds}")
    return max(1, round(ttl_seconds * 1000))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _fields(mapping: dict[str, bytes]) -> dict[FieldT, EncodableT]:
    return dict(mapping.items())


class _Client(redis.Redis):
    """Redis client whose type errors read like `MemoryStateStore`'s: TypeError (WRONGTYPE), ValueError."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute_command(*args, **options)
        except (RedisConnectionError, RedisTimeoutError) as exc:  # raised once the retries are spent
            raise StoreUnavailable(f"Redis unreachable: {exc}") from exc
        except ResponseError as exc:
            message = str(exc)
            if message.startswith("WRONGTYPE"):
                raise TypeError(f"{message} ({args[0]} {args[1] if len(args) > 1 else ''})") from exc
            if "not an integer" in message:
                raise ValueError(f"{message} ({args[0]} {args[1] if len(args) > 1 else ''})") from exc
            raise


class _AsyncClient(aioredis.Redis):
    """The awaitable client, with the same error translation as `_Client`."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return await super().execute_command(*args, **options)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise StoreUnavailable(f"Redis unreachable: {exc}") from exc


CLIENT_OPTIONS: dict[str, Any] = {
    "protocol": 2,
    "decode_responses": False,
    "socket_timeout": SOCKET_TIMEOUT_SECONDS,
    "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "socket_keepalive": True,
    "health_check_interval": HEALTH_CHECK_SECONDS,
}
RETRIED = (RedisConnectionError, RedisTimeoutError)


class RedisStateStore:
    def __init__(self, url: str, *, retries: int = RETRIES) -> None:
        self._url, self._retries = url, retries
        retry = Retry(ExponentialBackoff(cap=2.0, base=0.05), retries, supported_errors=RETRIED)
        self._redis = _Client.from_url(url, retry=retry, **CLIENT_OPTIONS)
        self._async_client: _AsyncClient | None = None  # made on first use, on the loop that uses it
        self._async_guarded_hsetnx: AsyncScript | None = None
        self._guarded_hsetnx = self._redis.register_script(GUARDED_HSETNX)
        self._swap = self._redis.register_script(SWAP)
        # health probes answer within a second while Redis is away, instead of after the retries
        no_retry = Retry(NoBackoff(), 0)
        self._probe = _Client.from_url(
            url, socket_timeout=PROBE_SECONDS, socket_connect_timeout=PROBE_SECONDS, retry=no_retry
        )

    def close(self) -> None:
        self._redis.close()
        self._probe.close()

    # --- plain keys ---

    def get(self, key: str) -> bytes | None:
        return _bytes(self._redis.get(key))

    def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None, only_if_absent: bool = False) -> bool:
        return bool(self._redis.set(key, value, px=_milliseconds(ttl_seconds), nx=only_if_absent))

    def swap(self, key: str, expected: bytes | None, value: bytes | None, *, ttl_seconds: float | None = None) -> bool:
        return bool(self._swap(keys=[key], args=swap_args(expected, value, _milliseconds(ttl_seconds))))

    def delete(self, *keys: str) -> int:
        return int(self._redis.delete(*keys)) if keys else 0

    def take(self, key: str) -> bytes | None:
        return _bytes(self._redis.getdel(key))

    def incr(self, key: str, amount: int = 1) -> int:
        return int(self._redis.incrby(key, amount))

    # --- hashes ---

    def hset(self, key: str, mapping: dict[str, bytes]) -> None:
        if mapping:
            self._redis.hset(key, mapping=_fields(mapping))

    def hsetnx(self, key: str, field: str, value: bytes) -> bool:
        return bool(self._redis.hsetnx(key, field, value))

    def hsetnx_guarded(
        self, key: str, field: str, value: bytes, guard: Guard, notice: Notice | None = None
    ) -> GuardedWrite:
        keys, args = guarded_hsetnx_call(key, field, value, guard, notice)
        stored, current = self._guarded_hsetnx(keys=keys, args=args)
        return GuardedWrite(bool(stored), _bytes(current))

    def hget(self, key: str, field: str) -> bytes | None:
        return _bytes(self._redis.hget(key, field))

    def hgetall(self, key: str) -> dict[str, bytes]:
        raw: dict[Any, Any] = self._redis.hgetall(key)
        return {_text(f): v for f, v in raw.items()}

    def hlen(self, key: str) -> int:
        return int(self._redis.hlen(key))

    def hdel(self, key: str, *fields: str) -> int:
        return int(self._redis.hdel(key, *fields)) if fields else 0

    # --- sets ---

    def sadd(self, key: str, *members: str) -> int:
        return int(self._redis.sadd(key, *members)) if members else 0

    def srem(self, key: str, *members: str) -> int:
        return int(self._redis.srem(key, *members)) if members else 0

    def smembers(self, key: str) -> builtins.set[str]:
        return {_text(m) for m in self._redis.smembers(key)}

    # --- lists as queues ---

    def rpush(self, key: str, *values: bytes) -> int:
        return int(self._redis.rpush(key, *values)) if values else self.llen(key)

    def rpush_each(self, items: Sequence[tuple[str, bytes]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for key, value in items:
            pipe.rpush(key, value)
        pipe.execute()

    def blpop(self, key: str, timeout_seconds: float) -> bytes | None:
        if timeout_seconds <= 0:
            return _bytes(cast(bytes | None, self._redis.lpop(key)))  # BLPOP 0 would wait forever
        deadline = time.monotonic() + timeout_seconds
        while (remaining := deadline - time.monotonic()) > 0:
            popped = self._redis.blpop([key], timeout=max(0.01, min(remaining, BLOCK_SLICE_SECONDS)))
            if popped is not None:
                return _bytes(popped[1])
        return None

    def llen(self, key: str) -> int:
        return int(self._redis.llen(key))

    # --- awaitable reads (the API's hot path) ---

    def _aio(self) -> _AsyncClient:
        if self._async_client is None:
            retry = AsyncRetry(ExponentialBackoff(cap=2.0, base=0.05), self._retries, supported_errors=RETRIED)
            client = _AsyncClient.from_url(self._url, retry=retry, **CLIENT_OPTIONS)
            self._async_client = cast(_AsyncClient, client)
        return self._async_client

    async def hget_async(self, key: str, field: str) -> bytes | None:
        return _bytes(await self._aio().hget(key, field))

    async def hsetnx_guarded_async(
        self, key: str, field: str, value: bytes, guard: Guard, notice: Notice | None = None
    ) -> GuardedWrite:
        if self._async_guarded_hsetnx is None:
            self._async_guarded_hsetnx = self._aio().register_script(GUARDED_HSETNX)
        keys, args = guarded_hsetnx_call(key, field, value, guard, notice)
        stored, current = await self._async_guarded_hsetnx(keys=keys, args=args)
        return GuardedWrite(bool(stored), _bytes(current))

    async def blpop_async(self, key: str, timeout_seconds: float) -> bytes | None:
        client = self._aio()
        if timeout_seconds <= 0:
            return _bytes(cast(bytes | None, await client.lpop(key)))
        deadline = time.monotonic() + timeout_seconds
        while (remaining := deadline - time.monotonic()) > 0:
            popped = await client.blpop([key], timeout=max(0.01, min(remaining, BLOCK_SLICE_SECONDS)))
            if popped is not None:
                return _bytes(popped[1])
        return None

    async def close_async(self) -> None:
        if self._async_client is not None:
            await self._async_client.aclose()
            self._async_client, self._async_guarded_hsetnx = None, None

    # --- streams ---

    def xadd(self, stream: str, fields: dict[str, bytes], *, maxlen: int | None = None) -> str:
        check_entry(fields, maxlen)
        return _text(self._redis.xadd(stream, _fields(fields), maxlen=maxlen, approximate=False))

    def ensure_group(self, stream: str, group: str) -> None:
        try:
            self._redis.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if not str(exc).startswith("BUSYGROUP"):
                raise

    def xreadgroup(self, stream: str, group: str, consumer: str, count: int, block_seconds: float) -> list[StreamEntry]:
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        pending = self._read_pending(stream, group, consumer, count)
        if pending:
            return pending
        deadline = time.monotonic() + max(block_seconds, 0.0)
        while True:
            remaining = deadline - time.monotonic()
            block_ms = None if remaining <= 0 else max(1, round(min(remaining, BLOCK_SLICE_SECONDS) * 1000))
            fresh, _ = self._read(stream, group, consumer, count, ">", block_ms)
            if fresh or block_ms is None:
                return fresh

    def _read_pending(self, stream: str, group: str, consumer: str, count: int) -> list[StreamEntry]:
        """This consumer's unacknowledged entries; ones trimmed from the stream are acknowledged and skipped."""
        while True:
            live, trimmed = self._read(stream, group, consumer, count, "0", None)
            if trimmed:
                self._redis.xack(stream, group, *trimmed)
            if live or not trimmed:
                return live

    def _read(
        self, stream: str, group: str, consumer: str, count: int, start: str, block_ms: int | None
    ) -> tuple[list[StreamEntry], list[str]]:
        """(live entries, ids of pending entries whose data was trimmed), creating the group if needed."""
        reply: Any
        try:
            reply = self._redis.xreadgroup(group, consumer, {stream: start}, count=count, block=block_ms)
        except ResponseError as exc:
            if not str(exc).startswith("NOGROUP"):
                raise
            self.ensure_group(stream, group)
            reply = self._redis.xreadgroup(group, consumer, {stream: start}, count=count, block=block_ms)
        live: list[StreamEntry] = []
        trimmed: list[str] = []
        for _name, entries in reply or []:
            for entry_id, fields in entries:
                if fields:
                    live.append((_text(entry_id), {_text(f): v for f, v in fields.items()}))
                else:
                    trimmed.append(_text(entry_id))
        return live, trimmed

    def xack(self, stream: str, group: str, *ids: str) -> int:
        return int(self._redis.xack(stream, group, *ids)) if ids else 0

    def xlen(self, stream: str) -> int:
        return int(self._redis.xlen(stream))

    # --- health ---

    def ping(self) -> bool:
        try:
            return bool(self._probe.ping())
        except StoreUnavailable:
            return False
