"""For tests and benchmarks: a Ray cluster of two nodes on this machine, as separate `ray start --block`
processes with their own ports.

Stopped by terminating those two processes (each tears its node down); never with `ray stop`, which would
stop every Ray process on the machine, other people's included. The temporary folder is a short one under
/tmp: Ray puts Unix sockets in it, whose paths must stay under 108 characters (pytest's tmp_path is too deep).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import fedloom

RAY = Path(sys.executable).parent / "ray"
START_SECONDS = 120.0
PORT_OPTIONS = (
    "--node-manager-port",
    "--object-manager-port",
    "--dashboard-agent-listen-port",
    "--dashboard-agent-grpc-port",
    "--metrics-export-port",
    "--runtime-env-agent-port",
)


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free right now (bound together, then released)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def cluster_environment() -> dict[str, str]:
    """For the nodes and the driver: this environment with this checkout's fedloom first on the path of every
    Ray worker, and Ray's token authentication with a fresh token of their own (not ~/.ray's)."""
    source = str(Path(fedloom.__file__).resolve().parents[1])
    paths = [source, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "OMP_NUM_THREADS": "1",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
    }


def start_node(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(RAY), "start", "--block", "--num-cpus", "1", "--disable-usage-stats", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_SECONDS
    while b"Ray runtime started" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_node(process)
            raise RuntimeError(f"ray start did not come up:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)
    return process


def stop_node(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to `ray start --block` (it stops its node), then SIGKILL to its process group if need be."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything of this node still in its session


@contextmanager
def two_node_cluster() -> Iterator[tuple[str, dict[str, str]]]:
    """A head and a second node of 1 CPU each; yields the address to pass to `--ray` and the environment a
    driver needs to join (the cluster's token)."""
    env = cluster_environment()
    temp = Path(tempfile.mkdtemp(prefix="flray-"))
    ports = free_ports(2 + 2 * len(PORT_OPTIONS) + 1)
    address = f"127.0.0.1:{ports[0]}"
    head_ports = [item for pair in zip(PORT_OPTIONS, map(str, ports[2:8]), strict=True) for item in pair]
    node_ports = [item for pair in zip(PORT_OPTIONS, map(str, ports[8:14]), strict=True) for item in pair]
    head_args = ["--head", "--port", str(ports[0]), "--ray-client-server-port", str(ports[1])]
    head_args += ["--include-dashboard=false", "--dashboard-port", str(ports[14]), "--temp-dir", str(temp)]
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        nodes.append(start_node([*head_args, *head_ports], temp / "head.log", env))
        nodes.append(start_node(["--address", address, *node_ports], temp / "node.log", env))
        yield address, env
    finally:
        for node in reversed(nodes):
            stop_node(node)
        shutil.rmtree(temp, ignore_errors=True)
