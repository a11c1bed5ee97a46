"""How operators see numbers, in the dashboard and in the CLI alike: percentages, byte sizes, ages, activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fedloom.wire.control import ClientInfo, FederationState

ACTIVE_SECONDS = 300.0  # a client seen this recently counts as active


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    return f"{seconds / 60:.0f} min ago" if seconds < 5400 else f"{seconds / 3600:.1f} h ago"


def activity(last_seen: float | None, now: float) -> str:
    """'active' (seen in the last ACTIVE_SECONDS), 'quiet', or 'never seen'."""
    if last_seen is None:
        return "never seen"
    return "active" if now - last_seen < ACTIVE_SECONDS else "quiet"


def last_seen_text(last_seen: float | None, now: float) -> str:
    return "never" if last_seen is None else ago(max(now - last_seen, 0.0))


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
    privacy: str = "off"


def client_row(info: ClientInfo, now: float) -> ClientRow:
    seen = info.last_seen
    return ClientRow(
        client_id=info.client_id,
        name=info.name or "-",
        architecture=info.architecture or "-",
        activity=activity(seen, now),
        last_seen=last_seen_text(seen, now),
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
        privacy=privacy_text(state),
    )


def privacy_text(state: FederationState) -> str:
    """'off', or the largest epsilon any client has spent against the budget: 'ε 3.21 of 8 (δ 1e-05)'."""
    privacy = state.config.training.privacy
    if privacy is None:
        return "off"
    spent = [r.epsilon_max for r in state.rounds if r.epsilon_max is not None]
    budget = "no budget" if privacy.epsilon is None else f"of {privacy.epsilon:g}"
    return f"ε {spent[-1] if spent else 0.0:.2f} {budget} (δ {privacy.delta:g}, noise ×{privacy.noise_multiplier:.3g})"
