"""Real services as processes for the fault tests, each of which a test can kill and start again.

`Cluster`: a private redis-server (append-only file, so it keeps its data across a SIGKILL), the
session's S3 server (a bucket of its own), the generator and the aggregator as `fedloom` processes on
fixed ports, and client agents. `ScriptedClient`: an enrolled client that a test drives by hand over
HTTP (upload exactly these prototypes now), for faults that must hit a known moment of a round.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import torch

import servers
from fedloom.ops.processes import LocalProcess, ProcessGroup, free_port
from fedloom.stores.redis_store import RedisStateStore
from fedloom.wire import ClientUpdate, GlobalPayload, decode, encode
from fedloom_aggregator.rounds import RoundBook

ADMIN = "faults-admin-token-0123456789abcdef"
MSGPACK = {"Content-Type": "application/msgpack"}


# Three short FedTGP rounds, for the tests that kill aggregators mid-round and compare with an uninterrupted run.
FEDTGP_ROUNDS, FEDTGP_CLASSES, FEDTGP_DIM = 3, 4, 16
FEDTGP_CONFIG = {
    "algorithm": "fedtgp",
    "options": {"server_epochs": 5},
    "num_classes": FEDTGP_CLASSES,
    "feature_dim": FEDTGP_DIM,
    "input_shape": [1, 8, 8],
    "rounds": FEDTGP_ROUNDS,
    "round_deadline_seconds": 120,
    "seed": 7,
}

FEDKTL_CLASSES = 4
FEDKTL_SHAPE = (FEDKTL_CLASSES, FEDKTL_CLASSES)  # FedKTL uploads C x C prototypes
REMOTE_FEDKTL = {  # two short FedKTL rounds with images from the generator service
    "algorithm": "fedktl",
    "options": {"server_epochs": 3},
    "num_classes": FEDKTL_CLASSES,
    "feature_dim": 16,
    "input_shape": [1, 8, 8],
    "rounds": 2,
    "round_deadline_seconds": 120,
    "generator": "remote",
}


def wait_until(predicate: Callable[[], bool], seconds: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def sigkill(member: LocalProcess) -> None:
    member.process.send_signal(signal.SIGKILL)
    member.process.wait(10)


@dataclass
class Cluster:
    root: Path
    s3_endpoint: str
    group: ProcessGroup = field(init=False)
    env: dict[str, str] = field(init=False)
    aggregator_url: str = field(init=False)
    generator_url: str = field(init=False)
    starts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.root / "redis").mkdir(parents=True)
        self.redis, redis_url = servers.start_redis(data_dir=self.root / "redis")
        self.redis_port = urlsplit(redis_url).port
        self.group = ProcessGroup(self.root / "logs")
        self.env = {
            "FEDLOOM_REDIS_URL": redis_url,
            "FEDLOOM_S3_ENDPOINT": self.s3_endpoint,
            "FEDLOOM_S3_ACCESS_KEY": servers.S3_ACCESS_KEY,
            "FEDLOOM_S3_SECRET_KEY": servers.S3_SECRET_KEY,
            "FEDLOOM_S3_BUCKET": f"faults-{uuid.uuid4().hex[:10]}",
            "FEDLOOM_ADMIN_TOKEN": ADMIN,
            "OMP_NUM_THREADS": "1",
        }
        self.aggregator_url = f"http://127.0.0.1:{free_port()}"
        self.generator_url = f"http://127.0.0.1:{free_port()}"
        self.store = RedisStateStore(redis_url)
        self.book = RoundBook(self.store)
        self.admin = httpx.Client(
            base_url=self.aggregator_url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60
        )

    def start(self, name: str, args: list[str], env: dict[str, str]) -> LocalProcess:
        """Start (or start again) a service; each start logs to its own file."""
        self.starts[name] = self.starts.get(name, 0) + 1
        return self.group.start(f"{name}-{self.starts[name]}", args, {**self.env, **env})

    def start_generator(self) -> LocalProcess:
        port = str(urlsplit(self.generator_url).port)
        member = self.start("generator", ["generator", "serve", "--port", port], {"FEDLOOM_GENERATOR": "tiny"})
        self.group.wait_ready(member, f"{self.generator_url}/readyz")
        return member

    def start_aggregator(self, url: str | None = None, env: dict[str, str] | None = None) -> LocalProcess:
        """An aggregator at `url` (default: the cluster's); replicas at other URLs share its Redis and bucket."""
        url = url or self.aggregator_url
        port = str(urlsplit(url).port)
        extra = {"FEDLOOM_GENERATOR_URL": self.generator_url, **(env or {})}
        member = self.start(f"aggregator-{port}", ["aggregator", "--port", port], extra)
        self.group.wait_ready(member, f"{url}/readyz")
        return member

    def kill_redis(self) -> None:
        self.redis.send_signal(signal.SIGKILL)
        self.redis.wait(10)

    def start_redis_again(self) -> None:
        self.redis, _ = servers.start_redis(self.redis_port, data_dir=self.root / "redis")

    def create(self, config: dict[str, object]) -> str:
        fid: str = self.admin.post("/v1/federations", json=config).json()["federation_id"]
        self.admin.post(f"/v1/federations/{fid}/start").raise_for_status()
        return fid

    def state(self, fid: str) -> dict[str, object]:
        state: dict[str, object] = self.admin.get(f"/v1/federations/{fid}").json()
        return state

    def wait_done(self, fid: str, seconds: float = 120.0) -> dict[str, object]:
        wait_until(lambda: self.state(fid)["status"] != "running", seconds, f"federation {fid} to end")
        return self.state(fid)

    def wait_phase(self, fid: str, round_: int, phases: tuple[str, ...], seconds: float = 60.0) -> None:
        wait_until(lambda: self.book.phase(fid, round_) in phases, seconds, f"round {round_} in {phases}")

    def package(self, fid: str, round_: int) -> GlobalPayload:
        return decode(self.admin.get(f"/v1/federations/{fid}/rounds/{round_}/package").content, GlobalPayload)

    def enrol(self) -> ScriptedClient:
        token = self.admin.post("/v1/admin/enrollment-tokens", json={"ttl_seconds": 300}).json()["token"]
        enrolled = httpx.post(f"{self.aggregator_url}/v1/clients", json={"enrollment_token": token}).json()
        headers = {"Authorization": f"Bearer {enrolled['api_token']}"}
        return ScriptedClient(enrolled["client_id"], httpx.Client(base_url=self.aggregator_url, headers=headers))

    def close(self) -> None:
        self.admin.close()
        self.store.close()
        self.group.stop()
        servers.stop(self.redis)


@dataclass
class ScriptedClient:
    """An enrolled client whose uploads the test writes: prototypes drawn from (round, client id)."""

    client_id: int
    http: httpx.Client

    def upload(self, fid: str, round_: int, classes: int, width: int) -> httpx.Response:
        rng = torch.Generator().manual_seed(1000 * round_ + self.client_id)
        tensors = {"classes": torch.arange(classes), "prototypes": torch.randn(classes, width, generator=rng)}
        body = encode(ClientUpdate(round=round_, client_id=self.client_id, num_samples=10, tensors=tensors))
        return self.http.put(f"/v1/federations/{fid}/rounds/{round_}/update", content=body, headers=MSGPACK, timeout=60)

    def report(self, fid: str, round_: int) -> None:
        report = {"correct": 3 + self.client_id, "total": 10, "loss": 0.5}
        response = self.http.post(f"/v1/federations/{fid}/rounds/{round_}/metrics", json=report, timeout=60)
        assert response.status_code == 204, response.text


def upload_all(cluster: Cluster, clients: list[ScriptedClient], fid: str, round_: int, shape: tuple[int, int]) -> None:
    """Every client uploads round `round_` (once it collects) and, once it is published, reports metrics."""
    cluster.wait_phase(fid, round_, ("collecting",))
    for client in clients:
        assert client.upload(fid, round_, *shape).json()["accepted"] is True
    report_all(cluster, clients, fid, round_)


def report_all(cluster: Cluster, clients: list[ScriptedClient], fid: str, round_: int) -> None:
    cluster.wait_phase(fid, round_, ("published",))
    for client in clients:
        client.report(fid, round_)
