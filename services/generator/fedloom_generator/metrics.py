"""Prometheus counters and a latency histogram, rendered in the text exposition format (version 0.0.4)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_PREFIX = "fedloom_generator"


@dataclass
class Histogram:
    """Cumulative-bucket histogram; `counts[i]` counts observations <= BUCKETS[i]."""

    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: int = 0
    sum: float = 0.0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if value <= bound:
                self.counts[i] += 1
        self.total += 1
        self.sum += value


class Metrics:
    """Thread-safe metrics of one app instance (built in `create_app`, never a module global)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, int]] = Counter()
        self._latency: dict[str, Histogram] = {}
        self._images: Counter[str] = Counter()
        self._jobs: Counter[str] = Counter()

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(route, method, status)] += 1
            self._latency.setdefault(route, Histogram()).observe(seconds)

    def count_images(self, n: int, source: str) -> None:
        with self._lock:
            self._images[source] += n

    def count_job(self, outcome: str) -> None:
        with self._lock:
            self._jobs[outcome] += 1

    def render(self) -> str:
        """All metrics as Prometheus text."""
        with self._lock:
            lines = _counter(
                "requests_total",
                "HTTP requests served.",
                {_labels(route=r, method=m, status=str(s)): v for (r, m, s), v in sorted(self._requests.items())},
            )
            lines += _counter("images_total", "Images generated.", _by("source", self._images))
            lines += _counter("jobs_total", "Generation jobs finished from the queue.", _by("outcome", self._jobs))
            lines += _histogram("request_seconds", "HTTP request latency.", self._latency)
        return "\n".join(lines) + "\n"


def _by(label: str, counts: Counter[str]) -> dict[str, float]:
    return {_labels(**{label: name}): value for name, value in sorted(counts.items())}


def _counter(name: str, help_text: str, samples: dict[str, float]) -> list[str]:
    full = f"{_PREFIX}_{name}"
    return [f"# HELP {full} {help_text}", f"# TYPE {full} counter"] + [
        f"{full}{labels} {_number(value)}" for labels, value in samples.items()
    ]


def _histogram(name: str, help_text: str, series: dict[str, Histogram]) -> list[str]:
    full = f"{_PREFIX}_{name}"
    lines = [f"# HELP {full} {help_text}", f"# TYPE {full} histogram"]
    for route, h in sorted(series.items()):
        for bound, count in zip(BUCKETS, h.counts, strict=True):
            lines.append(f"{full}_bucket{_labels(route=route, le=_number(bound))} {count}")
        lines.append(f"{full}_bucket{_labels(route=route, le='+Inf')} {h.total}")
        lines.append(f"{full}_sum{_labels(route=route)} {_number(h.sum)}")
        lines.append(f"{full}_count{_labels(route=route)} {h.total}")
    return lines


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))
