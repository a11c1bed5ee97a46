"""Simulated client agents for `bench/load.py`: enrol, poll for the round's task, upload, report metrics.

Every client is a real enrolled identity with its own API token; requests go over HTTP on loopback
through one pool of `concurrency` keep-alive connections (`load_http`). Upload latency is timed
around each PUT alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import torch

from fedloom.wire import ClientUpdate, encode
from fedloom.wire.routes import MSGPACK
from load_http import LoopbackPool

T = TypeVar("T")
ENROL_TOKENS = "/v1/admin/enrollment-tokens"


@dataclass(frozen=True)
class SimClient:
    client_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class RoundTiming:
    latencies: list[float] = field(default_factory=list)
    first_sent: float = float("inf")
    last_answered: float = 0.0
    accepted: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds each process used while the uploads ran

    @property
    def window(self) -> float:
        return self.last_answered - self.first_sent


async def bounded(limit: int, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs with at most `limit` in flight; results in order."""
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))


async def enrol_all(http: LoopbackPool, admin: dict[str, str], n: int, limit: int) -> list[SimClient]:
    async def one(i: int) -> SimClient:
        token = (await http.request("POST", ENROL_TOKENS, admin, json_body={"ttl_seconds": 600})).json()
        answer = await http.request("POST", "/v1/clients", json_body={"enrollment_token": token["token"]})
        answer.raise_for_status()
        return SimClient(answer.json()["client_id"], answer.json()["api_token"])

    return await bounded(limit, [lambda i=i: one(i) for i in range(n)])  # type: ignore[misc]


def prototypes_upload(client: SimClient, round_: int, num_classes: int, seed: int) -> bytes:
    """C x C FedKTL prototypes: every class present, values from a per-client seeded generator."""
    rng = torch.Generator().manual_seed(seed * 1_000_003 + client.client_id * 101 + round_)
    tensors = {
        "classes": torch.arange(num_classes),
        "prototypes": torch.randn(num_classes, num_classes, generator=rng),
    }
    update = ClientUpdate(round=round_, client_id=client.client_id, num_samples=100, tensors=tensors)
    return encode(update)


async def wait_task(http: LoopbackPool, client: SimClient, kind: str, round_: int) -> None:
    """Long-poll until this client's `kind` task for `round_` arrives (earlier ones are skipped)."""
    while True:
        answer = await http.request("GET", "/v1/tasks/next?wait=20", client.headers)
        if answer.status == 204:
            continue
        answer.raise_for_status()
        task = answer.json()
        if task["kind"] == kind and task["round"] == round_:
            return


async def upload(
    http: LoopbackPool, client: SimClient, fid: str, round_: int, body: bytes, timing: RoundTiming
) -> None:
    headers = client.headers | {"Content-Type": MSGPACK}
    started = time.time()
    timing.first_sent = min(timing.first_sent, started)
    answer = await http.request("PUT", f"/v1/federations/{fid}/rounds/{round_}/update", headers, body)
    done = time.time()
    answer.raise_for_status()
    timing.latencies.append(done - started)
    timing.last_answered = max(timing.last_answered, done)
    timing.accepted += int(answer.json()["accepted"] and not answer.json()["duplicate"])


async def report(http: LoopbackPool, client: SimClient, fid: str, round_: int) -> None:
    await wait_task(http, client, "evaluate", round_)
    metrics = {"correct": 1, "total": 2, "loss": 0.5}
    answer = await http.request(
        "POST", f"/v1/federations/{fid}/rounds/{round_}/metrics", client.headers, json_body=metrics
    )
    answer.raise_for_status()


async def run_round(
    http: LoopbackPool,
    clients: list[SimClient],
    fid: str,
    round_: int,
    num_classes: int,
    limit: int,
    cpu_seconds: Callable[[], dict[str, float]],
) -> RoundTiming:
    """Every client: fit task, then (all at once) upload, then evaluate task and metrics report."""
    bodies = {c.client_id: prototypes_upload(c, round_, num_classes, seed=0) for c in clients}
    await bounded(limit, [lambda c=c: wait_task(http, c, "fit", round_) for c in clients])  # type: ignore[misc]
    timing = RoundTiming()
    uploads = [lambda c=c: upload(http, c, fid, round_, bodies[c.client_id], timing) for c in clients]
    cpu_before = cpu_seconds()
    await bounded(limit, uploads)  # type: ignore[arg-type]
    timing.cpu = {name: used - cpu_before[name] for name, used in cpu_seconds().items()}
    await bounded(limit, [lambda c=c: report(http, c, fid, round_) for c in clients])  # type: ignore[misc]
    return timing
