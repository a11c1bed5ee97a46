"""Real servers for tests: a private redis-server and a moto S3 server, each on a free loopback port.

    proc, url = start_redis()          # redis://127.0.0.1:PORT/0, no persistence
    proc, endpoint = start_s3()        # http://127.0.0.1:PORT (moto; any access/secret key works)
    stop(proc)                         # terminate, then kill if it lingers

Both wait until the server answers and raise `RuntimeError` (with the server's log) if it does not.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from system_tools import require_tool

STARTUP_SECONDS = 15.0
S3_ACCESS_KEY = "testing"
S3_SECRET_KEY = "testing"
S3_REGION = "us-east-1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Stop a server started here (no-op if it already exited)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def start_redis(port: int | None = None, data_dir: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server on 127.0.0.1 (a free port unless given); returns (proc, url). Without persistence,
    or, with `data_dir`, with an append-only file there synced on every write (survives SIGKILL)."""
    binary = require_tool("redis-server", "redis-server")
    for attempt in range(3):  # a free port can be taken by someone else before redis binds it
        chosen = port or free_port()
        args = [binary, "--port", str(chosen), "--bind", "127.0.0.1", "--save", "", "--loglevel", "warning"]
        if data_dir is None:
            args += ["--appendonly", "no", "--dir", tempfile.gettempdir()]
        else:
            args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(data_dir)]
        try:
            proc = _spawn(args, "redis", functools.partial(_redis_answers, chosen))
        except RuntimeError:
            if port is not None or attempt == 2:
                raise
            continue
        return proc, f"redis://127.0.0.1:{chosen}/0"
    raise AssertionError("unreachable")


def start_s3() -> tuple[subprocess.Popen[bytes], str]:
    """A moto S3 server on a free loopback port; returns (proc, "http://127.0.0.1:PORT")."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return _spawn(args, "moto", lambda: _http_answers(endpoint)), endpoint


def _spawn(args: list[str], name: str, ready: Callable[[], bool]) -> subprocess.Popen[bytes]:
    log = tempfile.NamedTemporaryFile(prefix=f"fedloom-{name}-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    atexit.register(stop, proc)  # in case a fixture's teardown never runs
    log.close()
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if ready():
            Path(log.name).unlink()  # the server keeps writing to the open file; nothing is left behind
            return proc
        time.sleep(0.05)
    stop(proc)
    output = Path(log.name).read_text(errors="replace")[-2000:]
    Path(log.name).unlink()
    raise RuntimeError(f"{name} did not start ({' '.join(args)}):\n{output}")


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _http_answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/", timeout=0.5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def serving(app: Any, startup_seconds: float = 30.0) -> Iterator[str]:
    """Serve an ASGI app with a real uvicorn server in a background thread; yields its base URL."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_seconds
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"app on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
