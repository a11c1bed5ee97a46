"""Worker processes on this machine: started with 'spawn', one pipe each, carrying codec-encoded bytes."""

from __future__ import annotations

import multiprocessing
import signal
import traceback
from collections.abc import Mapping
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from fedloom.simulation.workers.host import ClientHost
from fedloom.simulation.workers.messages import WorkerError, WorkerReady, WorkerSetup
from fedloom.wire import decode, encode

STOP_SECONDS = 10.0


def serve(pipe: Connection, setup_bytes: bytes) -> None:
    """A worker's whole life: build its clients, say ready, answer requests until the pipe closes."""
    try:
        host = ClientHost(decode(setup_bytes, WorkerSetup))
    except Exception:  # reported to the driver, which stops the run with it
        pipe.send_bytes(encode(WorkerReady(error=traceback.format_exc())))
        return
    pipe.send_bytes(encode(host.ready()))
    try:
        while True:
            pipe.send_bytes(host.handle(pipe.recv_bytes()))
    except (EOFError, KeyboardInterrupt, BrokenPipeError):
        return  # the driver closed the pipe (end of run), or Ctrl-C reached the whole process group


class LocalWorkers:
    """One spawned process per entry of `setups`. A worker that dies fails the run (no restart): its
    clients' state existed only there, and the error names them."""

    def __init__(self, setups: list[WorkerSetup]) -> None:
        context = multiprocessing.get_context("spawn")
        self.setups = setups
        self.pipes: list[Connection] = []
        self.processes: list[BaseProcess] = []
        for index, setup in enumerate(setups):
            parent, child = context.Pipe()
            process = context.Process(
                target=serve, args=(child, encode(setup)), name=f"fedloom-worker-{index}", daemon=True
            )
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)
        self.ready: list[WorkerReady] = []
        try:
            self.ready = [self.started(index) for index in range(len(setups))]
        except BaseException:
            self.close()
            raise

    def started(self, index: int) -> WorkerReady:
        ready = decode(self.receive(index), WorkerReady)
        if ready.error:
            raise WorkerError(f"worker {index} could not build clients {self.setups[index].client_ids}:\n{ready.error}")
        return ready

    @property
    def pids(self) -> list[int | None]:
        return [process.pid for process in self.processes]

    def exchange(self, requests: Mapping[int, bytes]) -> dict[int, bytes]:
        for index, data in requests.items():
            try:
                self.pipes[index].send_bytes(data)
            except (BrokenPipeError, ConnectionResetError, OSError):
                raise self.lost(index) from None
        return {index: self.receive(index) for index in requests}

    def receive(self, index: int) -> bytes:
        pipe, process = self.pipes[index], self.processes[index]
        wait([pipe, process.sentinel])
        try:
            return pipe.recv_bytes()
        except (EOFError, ConnectionResetError, OSError):
            raise self.lost(index) from None

    def lost(self, index: int) -> WorkerError:
        process = self.processes[index]
        process.join(timeout=STOP_SECONDS)
        return WorkerError(
            f"worker {index} (pid {process.pid}) {exit_reason(process.exitcode)}; it owned clients "
            f"{self.setups[index].client_ids}, whose state is lost: the run stops"
        )

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.close()
        for process in self.processes:
            process.join(timeout=STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()


def exit_reason(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"
