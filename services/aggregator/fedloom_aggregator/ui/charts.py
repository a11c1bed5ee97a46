"""Server-rendered SVG charts: the accuracy curve with its per-client spread, and the round timeline.

Pure functions: numbers in, SVG text out. Every mark carries its values as data-* attributes and a
<title> tooltip, so people can hover and tests can read what is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 36
PHASES = ("open", "collecting", "aggregating", "generating")


@dataclass(frozen=True)
class RoundPoint:
    round: int
    accuracy: float
    spread: float  # standard deviation across clients


@dataclass(frozen=True)
class ClientPoint:
    round: int
    client_id: int
    accuracy: float


@dataclass(frozen=True)
class Scale:
    """Maps rounds to x and accuracies in [0, 1] to y inside the plot area."""

    last_round: int

    def x(self, round_: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * round_ / max(self.last_round, 1)

    def y(self, accuracy: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - min(max(accuracy, 0.0), 1.0))


def svg(body: str, label: str, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}">{body}</svg>'
    )


def axes(scale: Scale) -> str:
    parts = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = scale.y(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:.0%}</text>')
    step = max(1, (scale.last_round + 1) // 10)
    for round_ in range(0, scale.last_round + 1, step):
        x = scale.x(round_)
        parts.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{round_}</text>')
    parts.append(f'<text class="axis-label" x="{(LEFT + WIDTH) / 2:.0f}" y="{HEIGHT - 4}">round</text>')
    return "".join(parts)


def spread_band(points: Sequence[RoundPoint], scale: Scale) -> str:
    upper = [f"{scale.x(p.round):.1f},{scale.y(p.accuracy + p.spread):.1f}" for p in points]
    lower = [f"{scale.x(p.round):.1f},{scale.y(p.accuracy - p.spread):.1f}" for p in reversed(points)]
    return (
        f'<polygon class="spread" points="{" ".join(upper + lower)}"><title>per-client spread (1 std)</title></polygon>'
    )


def client_marks(clients: Sequence[ClientPoint], scale: Scale) -> str:
    return "".join(
        f'<circle class="client-point" cx="{scale.x(c.round):.1f}" cy="{scale.y(c.accuracy):.1f}" r="3" '
        f'data-round="{c.round}" data-client="{c.client_id}" data-accuracy="{c.accuracy:.4f}">'
        f"<title>client {c.client_id}, round {c.round}: {c.accuracy:.1%}</title></circle>"
        for c in clients
    )


def accuracy_marks(points: Sequence[RoundPoint], scale: Scale) -> str:
    line = " ".join(f"{scale.x(p.round):.1f},{scale.y(p.accuracy):.1f}" for p in points)
    dots = "".join(
        f'<circle class="accuracy-point" cx="{scale.x(p.round):.1f}" cy="{scale.y(p.accuracy):.1f}" r="4.5" '
        f'data-round="{p.round}" data-accuracy="{p.accuracy:.4f}" data-spread="{p.spread:.4f}">'
        f"<title>round {p.round}: {p.accuracy:.1%} (std {p.spread:.3f})</title></circle>"
        for p in points
    )
    return f'<polyline class="accuracy-line" points="{line}"/>{dots}'


def accuracy_chart(points: Sequence[RoundPoint], clients: Sequence[ClientPoint]) -> str:
    """Sample-weighted accuracy per round, a +-1 std band across clients, and every client's own result."""
    if not points:
        return svg(f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}">no finished rounds yet</text>', "accuracy")
    scale = Scale(max(p.round for p in points))
    body = axes(scale) + spread_band(points, scale) + client_marks(clients, scale) + accuracy_marks(points, scale)
    return svg(body, "accuracy per round")


def timeline_row(index: int, round_: int, phases: dict[str, float], seconds_per_px: float) -> str:
    y, x = TOP + index * 22, float(LEFT)
    parts = [f'<text class="tick" x="{LEFT - 6}" y="{y + 13}" text-anchor="end">{round_}</text>']
    for phase in PHASES:
        seconds = phases.get(phase)
        if seconds is None:
            continue
        width = max(seconds / seconds_per_px, 1.0)
        parts.append(
            f'<rect class="phase phase-{phase}" x="{x:.1f}" y="{y}" width="{width:.1f}" height="16" '
            f'data-round="{round_}" data-phase="{phase}" data-seconds="{seconds:.3f}">'
            f"<title>round {round_} {phase}: {seconds:.2f} s</title></rect>"
        )
        x += width
    return "".join(parts)


def timeline_chart(rounds: Sequence[tuple[int, dict[str, float]]]) -> str:
    """One bar per round, split into its open / collecting / aggregating / generating durations."""
    height = TOP + 22 * max(len(rounds), 1) + 24
    if not rounds:
        return svg(f'<text class="empty" x="{WIDTH / 2}" y="{TOP + 14}">no finished rounds yet</text>', "timeline", 60)
    longest = max(sum(p.get(name, 0.0) for name in PHASES) for _, p in rounds)
    seconds_per_px = max(longest, 1e-3) / (WIDTH - LEFT - RIGHT)
    body = "".join(timeline_row(i, r, p, seconds_per_px) for i, (r, p) in enumerate(rounds))
    body += f'<text class="axis-label" x="{LEFT}" y="{height - 6}">0 s</text>'
    body += f'<text class="axis-label" x="{WIDTH - RIGHT}" y="{height - 6}" text-anchor="end">{longest:.1f} s</text>'
    return svg(body, "round timeline", height)
