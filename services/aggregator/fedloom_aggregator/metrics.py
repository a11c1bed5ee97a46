"""Prometheus counters, histograms and gauges in the text exposition format (no extra dependency)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from fedloom.ops.formatting import ACTIVE_SECONDS
from fedloom.wire.control import ClientInfo, FederationState

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters: dict[str, float] = defaultdict(float)
        self.gauges: dict[str, float] = {}
        self.latency: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.latency_sum: dict[str, float] = defaultdict(float)

    def inc(self, name: str, amount: float = 1.0) -> None:
        with self.lock:
            self.counters[name] += amount

    def gauge(self, name: str, value: float) -> None:
        with self.lock:
            self.gauges[name] = value

    def observe(self, route: str, seconds: float) -> None:
        with self.lock:
            counts = self.latency[route]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self.latency_sum[route] += seconds

    def render(self, live: dict[str, float] | None = None) -> str:
        """The exposition text; `live` adds gauges computed at scrape time (e.g. active clients)."""
        with self.lock:
            lines = [f"fedloom_{name}_total {value:g}" for name, value in sorted(self.counters.items())]
            gauges = {**self.gauges, **(live or {})}
            lines += [f"fedloom_{name} {value:g}" for name, value in sorted(gauges.items())]
            for route, counts in sorted(self.latency.items()):
                for bound, count in zip(BUCKETS, counts, strict=False):
                    lines.append(f'fedloom_request_seconds_bucket{{route="{route}",le="{bound}"}} {count}')
                lines.append(f'fedloom_request_seconds_bucket{{route="{route}",le="+Inf"}} {counts[-1]}')
                lines.append(f'fedloom_request_seconds_count{{route="{route}"}} {counts[-1]}')
                lines.append(f'fedloom_request_seconds_sum{{route="{route}"}} {self.latency_sum[route]:g}')
        return "\n".join(lines) + "\n"


def live_gauges(clients: list[ClientInfo], federations: list[FederationState]) -> dict[str, float]:
    """Clients seen in the last five minutes, enrolled clients, running federations, rounds completed."""
    now = time.time()
    return {
        "active_clients": sum(1 for c in clients if c.last_seen and now - c.last_seen < ACTIVE_SECONDS),
        "enrolled_clients": len(clients),
        "running_federations": sum(1 for f in federations if f.status == "running"),
        "rounds_completed": sum(len(f.rounds) for f in federations),
    }
