"""A lean HTTP/1.1 client for the load process: a fixed pool of keep-alive loopback connections.

The load generator shares the machine's two cores with the aggregator; httpx spends about as much CPU
per request as the server does, so the load process would measure itself. This client only writes a
request and reads `Content-Length` bytes back (the aggregator never streams these answers).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise RuntimeError(f"HTTP {self.status}: {self.body[:300]!r}")


class LoopbackPool:
    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def close(self) -> None:
        while not self.idle.empty():
            _, writer = self.idle.get_nowait()
            writer.close()

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"", json_body: Any = None
    ) -> Reply:
        if json_body is not None:
            body, headers = json.dumps(json_body).encode(), {**(headers or {}), "Content-Type": "application/json"}
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        reader, writer = await self.idle.get()
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            reply = await read_reply(reader)
        except BaseException:
            writer.close()
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))
            raise
        self.idle.put_nowait((reader, writer))
        return reply


async def read_reply(reader: asyncio.StreamReader) -> Reply:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    length = 0
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return Reply(status, await reader.readexactly(length) if length else b"")
