"""Run launch plans (compose services or k8s containers) as local processes on loopback.

Only what a container runtime would provide changes: each DNS name:port becomes 127.0.0.1:<free port>
(a local `redis-server` and a moto S3 server stand in for the redis and minio images), 0.0.0.0 becomes
127.0.0.1, and container paths (mounted files, volumes) become paths under a temporary folder.
Commands, flags and every other environment value stay exactly as the deployment files say.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from deploy_files import LaunchPlan

import servers
from fedloom.ops.processes import LocalProcess, ProcessGroup, free_port

ROLE_ORDER = {"generator": 0, "aggregator": 1, "agent": 2, "federation": 3}


@dataclass
class Stores:
    """Stand-ins for the deployment's Redis and MinIO: `addresses` maps their host:port to loopback."""

    addresses: dict[str, str]


@contextmanager
def standin_stores(redis_host: str, s3_host: str, redis_password: str | None) -> Iterator[Stores]:
    redis_proc, redis_url = servers.start_redis()
    s3_proc, s3_endpoint = servers.start_s3()
    try:
        if redis_password:
            redis.Redis.from_url(redis_url).config_set("requirepass", redis_password)
        local_redis = redis_url.removeprefix("redis://").split("/")[0]
        yield Stores({f"{redis_host}:6379": local_redis, f"{s3_host}:9000": s3_endpoint.removeprefix("http://")})
    finally:
        servers.stop(redis_proc)
        servers.stop(s3_proc)


@dataclass
class LocalDeployment:
    plans: list[LaunchPlan]
    root: Path
    addresses: dict[str, str]

    def __post_init__(self) -> None:
        self.local_ports: dict[str, dict[int, int]] = {}
        for plan in self.plans:
            self.local_ports[plan.name] = {port: free_port() for port in plan.ports}
            for port, local in self.local_ports[plan.name].items():
                self.addresses.setdefault(f"{plan.host}:{port}", f"127.0.0.1:{local}")
        self.group = ProcessGroup(self.root / "logs")

    def localise(self, plan: LaunchPlan, text: str) -> str:
        for address, local in self.addresses.items():
            text = re.sub(rf"(?<![\w.-]){re.escape(address)}(?!\d)", local, text)
        for container_path, host_file in plan.files.items():
            text = text.replace(container_path, str(host_file)) if text.startswith(container_path) else text
        for folder in plan.scratch:
            if text == folder or text.startswith(folder + "/"):
                text = str(self.root / plan.name / folder.strip("/")) + text[len(folder) :]
        own = {str(port): str(local) for port, local in self.local_ports[plan.name].items()}
        return own.get(text, "127.0.0.1" if text == "0.0.0.0" else text)

    def start(self, plan: LaunchPlan, extra_env: dict[str, str] | None = None) -> LocalProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLOOM_")}
        env |= {key: self.localise(plan, value) for key, value in plan.env.items()} | (extra_env or {})
        return self.group.start(plan.name, [self.localise(plan, arg) for arg in plan.argv], env)

    def probe_url(self, plan: LaunchPlan) -> str:
        """/readyz on the plan's last port (its API, or the agent's probe port)."""
        return f"http://127.0.0.1:{self.local_ports[plan.name][plan.ports[-1]]}/readyz"

    def run_to_end(self, launcher_env: dict[str, str], timeout: float) -> tuple[LocalProcess, str]:
        """Start every service in dependency order, then the launcher; return it and the aggregator's log."""
        ordered = sorted(self.plans, key=lambda p: ROLE_ORDER[p.argv[0]])
        launcher = None
        for plan in ordered:
            if plan.argv[0] == "federation":
                launcher = self.start(plan, launcher_env)
                continue
            member = self.start(plan)
            if plan.argv[0] != "agent":
                self.group.wait_ready(member, self.probe_url(plan), timeout=180)
        for plan in ordered:  # agents load their data in parallel; then every probe must say ready
            if plan.argv[0] == "agent":
                self.group.wait_ready(self.member(plan.name), self.probe_url(plan), timeout=180)
        assert launcher is not None, "no `fedloom federation run` container in the plans"
        wait_for_exit(launcher, timeout)
        aggregator = next(p for p in ordered if p.argv[0] == "aggregator")
        return launcher, self.member(aggregator.name).log_path.read_text(errors="replace")

    def member(self, name: str) -> LocalProcess:
        return next(m for m in self.group.members if m.name == name)

    def stop(self) -> None:
        self.group.stop()


def wait_for_exit(process: LocalProcess, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while process.process.poll() is None:
        assert time.monotonic() < deadline, process.tail(40)
        time.sleep(0.5)
    return int(process.process.returncode)
