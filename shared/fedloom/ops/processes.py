"""Start FedLoom services as local processes (demo, end-to-end tests), wait for them, stop them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fedloom.errors import FedLoomError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LocalProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class ProcessGroup:
    """Processes started together and stopped together (SIGTERM, then SIGKILL after a grace period)."""

    log_dir: Path
    members: list[LocalProcess] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> LocalProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        full_env = {**os.environ, **(env or {})}
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "fedloom.cli", *args], stdout=log, stderr=subprocess.STDOUT, env=full_env
            )
        member = LocalProcess(name, proc, log_path)
        self.members.append(member)
        return member

    def wait_ready(self, member: LocalProcess, url: str, timeout: float = 120.0) -> None:
        """Poll `url` until it answers 200; fail with the process's log if it dies or takes too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if member.process.poll() is not None:
                raise FedLoomError(f"{member.name} exited ({member.process.returncode}):\n{member.tail()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise FedLoomError(f"{member.name} not ready at {url} after {timeout:.0f} s:\n{member.tail()}")

    def stop(self, grace_seconds: float = 10.0) -> None:
        for member in self.members:
            if member.process.poll() is None:
                member.process.terminate()
        deadline = time.monotonic() + grace_seconds
        for member in self.members:
            try:
                member.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait()
