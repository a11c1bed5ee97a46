"""What the dashboard pages show, computed from the coordinator, the registry and the stored results."""

from __future__ import annotations

import time
from typing import Any

from markupsafe import Markup

from fedloom.algorithms import get_algorithm
from fedloom.ops.formatting import client_row, federation_row
from fedloom.wire.control import FederationState
from fedloom_aggregator.coordinator import Coordinator
from fedloom_aggregator.registry import ClientRegistry
from fedloom_aggregator.results import Results
from fedloom_aggregator.ui.charts import ClientPoint, RoundPoint, accuracy_chart, timeline_chart
from fedloom_aggregator.ui.pictures import data_uris


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


def round_in_progress(state: FederationState, coordinator: Coordinator) -> str:
    """E.g. 'round 3: collecting' while the federation runs, else its status."""
    if state.status != "running":
        return state.status
    phase = coordinator.book.phase(state.federation_id, state.current_round)
    return f"round {state.current_round}: {phase or 'starting'}"


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
        "now": round_in_progress(state, coordinator),
        "clients": [client_row(c, now) for c in registry.clients() if c.client_id in members],
        "images": images,
        "images_round": None if generated is None else generated.round,
        "needs_images": get_algorithm(state.config.algorithm).needs_generator,
        **charts(state, results),
    }
