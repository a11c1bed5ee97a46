"""A tiny but real aggregator for the agent's tests: the REST contract over a real server algorithm.

One federation, one task queue shared by all clients (tests run one client), packages published by
the algorithm's server half as soon as a round's first update arrives. Served by uvicorn on a free
port in a thread, so the agent talks real HTTP to it. Hooks and injected 503s let tests stage
crashes, redeliveries and signals.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ServerEnv, TrainSettings
from fedloom.wire import ClientUpdate, decode, encode, routes
from fedloom.wire.control import Enrollment, EnrollRequest, FederationConfig, MetricsReport, Task

Hook = Callable[[int], None]


@dataclass
class MiniAggregator:
    config: FederationConfig
    enrollment_tokens: set[str]
    federation_id: str = "fed-test"
    first_client_id: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    """Route name ('package', 'update', ...) -> how many 503 answers it gives before working."""
    max_wait: float = 2.0
    on_poll: Hook | None = None
    on_upload: Hook | None = None
    queue: list[tuple[int, str]] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)
    uploads: dict[int, ClientUpdate] = field(default_factory=dict)
    upload_calls: int = 0
    metrics: dict[int, MetricsReport] = field(default_factory=dict)
    refused: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    closing: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        cfg = self.config
        spec = get_algorithm(cfg.algorithm)
        self.server = spec.make_server(make_config(spec, cfg.options))
        settings = TrainSettings.model_validate(cfg.training.model_dump())
        env = ServerEnv(
            cfg.num_classes, cfg.feature_dim, settings, cfg.seed, torch.device("cpu"), None, cfg.input_shape
        )
        self.state = self.server.init(env)
        self.bootstrap = encode(self.server.bootstrap(self.state))
        self.packages = {0: encode(self.server.broadcast(self.state))}
        if not self.queue:
            self.queue = [(r, kind) for r in range(cfg.rounds) for kind in ("fit", "evaluate")]

    def fail(self, route: str) -> bool:
        with self.lock:
            if self.failures.get(route, 0) > 0:
                self.failures[route] -= 1
                self.refused += 1
                return True
        return False

    def client_of(self, authorization: str | None) -> int:
        token = (authorization or "").removeprefix("Bearer ")
        if token not in self.tokens:
            raise HTTPException(401, "unknown API token")
        return self.tokens[token]

    def enrol(self, request: EnrollRequest) -> Enrollment:
        with self.lock:
            if request.enrollment_token not in self.enrollment_tokens:
                raise HTTPException(403, "unknown or already used enrolment token")
            self.enrollment_tokens.remove(request.enrollment_token)
            token = secrets.token_urlsafe(16)
            self.tokens[token] = self.first_client_id + len(self.tokens)
            return Enrollment(client_id=self.tokens[token], api_token=token)

    def take_task(self) -> Task | None:
        with self.lock:
            if not self.queue:
                return None
            round_, kind = self.queue[0]
            if round_ + (kind == "evaluate") not in self.packages:
                return None
            self.queue.pop(0)
            return Task(federation_id=self.federation_id, round=round_, kind=kind, config=self.config)  # type: ignore[arg-type]

    def wait_task(self, wait: float) -> Task | None:
        deadline = time.monotonic() + wait
        while not self.closing.is_set():
            task = self.take_task()
            if task is not None or time.monotonic() >= deadline:
                return task
            time.sleep(0.01)
        return None

    def accept(self, round_: int, client_id: int, body: bytes) -> bool:
        update = decode(body, ClientUpdate)
        if update.round != round_ or update.client_id != client_id:
            raise HTTPException(422, "update does not match its round or client")
        with self.lock:
            self.upload_calls += 1
            if round_ in self.uploads:
                return False
            self.uploads[round_] = update
            self.state = self.server.aggregate(self.state, [update])
            self.packages[round_ + 1] = encode(self.server.broadcast(self.state))
        return True

    def record_metrics(self, round_: int, report: MetricsReport) -> None:
        with self.lock:
            self.metrics[round_] = report
            if len(self.metrics) == self.config.rounds:
                self.done.set()


def _unavailable() -> Response:
    return JSONResponse({"detail": "busy, try again"}, status_code=503, headers={"Retry-After": "0"})


def _msgpack(data: bytes) -> Response:
    return Response(content=data, media_type=routes.MSGPACK)


def build_app(agg: MiniAggregator) -> FastAPI:
    app = FastAPI()

    @app.post(routes.CLIENTS, status_code=201)
    def enrol(body: EnrollRequest) -> Enrollment:
        return agg.enrol(body)

    @app.get(routes.NEXT_TASK, response_model=None)
    def next_task(wait: float = 0.0, authorization: str | None = Header(None)) -> Any:
        client_id = agg.client_of(authorization)
        if agg.on_poll is not None:
            agg.on_poll(client_id)
        task = agg.wait_task(min(wait, agg.max_wait))
        return task if task is not None else Response(status_code=204)

    @app.get(routes.BOOTSTRAP)
    def bootstrap(federation_id: str, authorization: str | None = Header(None)) -> Response:
        agg.client_of(authorization)
        return _unavailable() if agg.fail("bootstrap") else _msgpack(agg.bootstrap)

    @app.get(routes.ROUND_PACKAGE)
    def package(federation_id: str, round: int, authorization: str | None = Header(None)) -> Response:
        agg.client_of(authorization)
        if agg.fail("package"):
            return _unavailable()
        if round not in agg.packages:
            raise HTTPException(404, f"no package for round {round} yet")
        return _msgpack(agg.packages[round])

    @app.put(routes.ROUND_UPDATE)
    async def update(federation_id: str, round: int, request: Request) -> Any:
        client_id = agg.client_of(request.headers.get("authorization"))
        if request.headers.get("content-type") != routes.MSGPACK:
            raise HTTPException(415, "send application/msgpack")
        body = await request.body()
        if agg.fail("update"):
            return _unavailable()
        accepted = agg.accept(round, client_id, body)
        if agg.on_upload is not None:
            agg.on_upload(round)
        return {"accepted": True, "duplicate": not accepted}

    @app.post(routes.ROUND_METRICS, status_code=204)
    def metrics(federation_id: str, round: int, body: MetricsReport, authorization: str | None = Header(None)) -> None:
        agg.client_of(authorization)
        agg.record_metrics(round, body)

    return app


@contextmanager
def serving(agg: MiniAggregator) -> Iterator[str]:
    """Serve `agg` on a free local port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(agg), log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        agg.closing.set()
        server.should_exit = True
        thread.join(10)
        sock.close()
