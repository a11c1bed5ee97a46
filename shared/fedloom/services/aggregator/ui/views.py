"""What the dashboard pages show, computed from the coordinator, the registry and the stored results."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from fedloom.algorithms import get_algorithm
from fedloom.services.aggregator.coordinator import Coordinator
from fedloom.services.aggregator.registry import ClientRegistry
from fedloom.services.aggregator.results import Results
from fedloom.services.aggregator.ui.charts import ClientPoint, RoundPoint, accuracy_chart, timeline_chart
from fedloom.services.aggregator.ui.pictures import data_uris
from fedloom.wire.control import ClientInfo, FederationState

ACTIVE_SECONDS = 300.0  # a client seen this recently counts as active


@dataclass(frozen=True)
class ClientRow:
    client_id: int
    name: str
    architecture: str
    activity: str  # "active", "quiet" or "never seen"
    last_seen: str
    last_seen_utc: str
    rounds_joined: int
    last_accuracy: str
    bytes_sent: str


@dataclass(frozen=True)
class FederationRow:
    federation_id: str
    algorithm: str
    status: str
    progress: str
    last_accuracy: str
    best_accuracy: str
    clients: int


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    return f"{seconds / 60:.0f} min ago" if seconds < 5400 else f"{seconds / 3600:.1f} h ago"


def client_row(info: ClientInfo, now: float) -> ClientRow:
    seen = info.last_seen
    activity = "never seen" if seen is None else ("active" if now - seen < ACTIVE_SECONDS else "quiet")
    return ClientRow(
        client_id=info.client_id,
        name=info.name or "-",
        architecture=info.architecture or "-",
        activity=activity,
        last_seen="never" if seen is None else ago(max(now - seen, 0.0)),
        last_seen_utc="" if seen is None else datetime.fromtimestamp(seen, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        rounds_joined=info.rounds_joined,
        last_accuracy=percent(info.last_accuracy),
        bytes_sent=human_bytes(info.bytes_sent),
    )


def federation_row(state: FederationState) -> FederationRow:
    accuracies = [r.accuracy for r in state.rounds if r.accuracy is not None]
    return FederationRow(
        federation_id=state.federation_id,
        algorithm=state.config.algorithm,
        status=state.status,
        progress=f"{len(state.rounds)} / {state.config.rounds}",
        last_accuracy=percent(accuracies[-1] if accuracies else None),
        best_accuracy=percent(max(accuracies) if accuracies else None),
        clients=len(state.clients),
    )


def overview(coordinator: Coordinator, registry: ClientRegistry) -> dict[str, Any]:
    now = time.time()
    return {
        "federations": [federation_row(s) for s in coordinator.federations()],
        "clients": [client_row(c, now) for c in registry.clients()],
    }


def charts(state: FederationState, results: Results) -> dict[str, Markup]:
    points = [RoundPoint(r.round, r.accuracy, r.accuracy_std or 0.0) for r in state.rounds if r.accuracy is not None]
    reports = results.client_metrics(state.federation_id)
    clients = [ClientPoint(m.round, m.client_id, m.accuracy) for m in reports if m.accuracy is not None]
    timeline = [(r.round, r.phase_seconds) for r in state.rounds]
    # Both charts are built here from numbers only; every text inside them is escaped.
    return {
        "accuracy_chart": Markup(accuracy_chart(points, clients)),
        "timeline_chart": Markup(timeline_chart(timeline)),
    }


def federation_page(fid: str, coordinator: Coordinator, registry: ClientRegistry) -> dict[str, Any]:
    state = coordinator.state(fid)
    results = Results(coordinator)
    members = set(state.clients)
    now = time.time()
    generated = results.latest_images(fid)
    images = [] if generated is None else list(enumerate(data_uris(generated.images)))
    return {
        "federation": federation_row(state),
        "state": state,
        "clients": [client_row(c, now) for c in registry.clients() if c.client_id in members],
        "images": images,
        "images_round": None if generated is None else generated.round,
        "needs_images": get_algorithm(state.config.algorithm).needs_generator,
        **charts(state, results),
    }
