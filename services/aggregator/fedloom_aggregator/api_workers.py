"""`FEDLOOM_WORKERS=N`: N API processes behind one port, each with its own listening socket (SO_REUSEPORT).

uvicorn's own workers share one listening socket, and asyncio's accept loop takes every pending connection at
once: whichever worker wakes first keeps them all. Clients that hold keep-alive connections (a reverse proxy,
a connection pool) then load one worker and leave the others idle; under `make bench-load` one of two workers
did 90% of the work in three runs out of five. With a socket each in one SO_REUSEPORT group, the kernel spreads
new connections across the workers by their addresses and ports.

This supervisor starts the workers (spawned processes, each a `uvicorn.Server` building its app from the
FEDLOOM_* environment); the first ones wait for each other before they listen, so connections opened as soon as
the port answers (a pool, a proxy) do not all go to the one that started first. It starts a new worker in
place of one that dies, and stops them all on SIGINT or SIGTERM (each shuts down gracefully, handing back its
federation leases). A worker that dies before it built its app stops the whole group with an error instead of
being restarted in a loop.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Barrier as BarrierType
from multiprocessing.synchronize import Event as EventType
from typing import Any

import uvicorn

from fedloom.errors import ConfigError

log = logging.getLogger("fedloom.aggregator")
PEER_WAIT_SECONDS = 60.0
STOP_GRACE_SECONDS = 8.0  # under the 10 s that process managers commonly allow
WORKER_APP = "fedloom_aggregator.app:app_from_env"


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) in the port's SO_REUSEPORT group (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def check_port_free(host: str, port: int) -> None:
    """Fail at once, with the address, when another program holds the port (instead of N failing workers)."""
    try:
        listening_socket(host, port).close()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def run_worker(host: str, port: int, options: dict[str, Any], built: EventType, peers: BarrierType | None) -> None:
    """One API worker process: build the app from the FEDLOOM_* environment (then set `built`), wait for the
    `peers` (the first workers) to have built theirs, then listen on its own socket in the group."""
    threading.Thread(target=stop_with_parent, daemon=True).start()
    config = uvicorn.Config(WORKER_APP, factory=True, host=host, port=port, **options)
    config.load()
    built.set()
    if peers is not None:
        try:
            peers.wait(PEER_WAIT_SECONDS)
        except threading.BrokenBarrierError:
            log.warning("API worker %d: not every other worker started; listening anyway", os.getpid())
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])


def stop_with_parent() -> None:
    """Shut this worker down gracefully once the supervisor is gone (even SIGKILLed): no orphans on the port."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os.kill(os.getpid(), signal.SIGTERM)


class WorkerGroup:
    """The running workers, a new one in place of each that dies, all stopped together."""

    def __init__(self, host: str, port: int, workers: int, options: dict[str, Any]) -> None:
        self.args = (host, port, options)
        self.context = multiprocessing.get_context("spawn")
        self.stopping = threading.Event()
        self.peers = self.context.Barrier(workers)  # kept: the workers unpickle it after they start
        self.workers: list[tuple[BaseProcess, EventType]] = [self.start(self.peers) for _ in range(workers)]

    def start(self, peers: BarrierType | None = None) -> tuple[BaseProcess, EventType]:
        """A new worker and its app-built event; `peers` for the first ones only (a replacement listens at once)."""
        built = self.context.Event()
        process = self.context.Process(target=run_worker, args=(*self.args, built, peers), name="fedloom-api-worker")
        process.start()
        return process, built

    def watch(self) -> None:
        """Until asked to stop: replace workers that died; raise if one died before it built its app."""
        while not self.stopping.wait(0.5):
            for index, (process, built) in enumerate(self.workers):
                if process.is_alive() or self.stopping.is_set():
                    continue
                if not built.is_set():
                    raise ConfigError(f"API worker {process.pid} exited with {process.exitcode} while starting")
                log.warning("API worker %s exited with %s; starting another", process.pid, process.exitcode)
                self.workers[index] = self.start()

    def stop(self) -> None:
        """SIGTERM to every worker (a graceful uvicorn shutdown), SIGKILL to any still running after the grace."""
        self.stopping.set()
        for process, _ in self.workers:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process, _ in self.workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def serve_workers(host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Run `workers` API processes on (host, port) until SIGINT or SIGTERM; `options` go to uvicorn.Config."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ConfigError("FEDLOOM_WORKERS > 1 needs SO_REUSEPORT (Linux); run one aggregator process per container")
    check_port_free(host, port)
    group = WorkerGroup(host, port, workers, options)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: group.stopping.set())
    log.info("%d API workers on %s:%d (one SO_REUSEPORT socket each)", workers, host, port)
    try:
        group.watch()
    finally:
        group.stop()
