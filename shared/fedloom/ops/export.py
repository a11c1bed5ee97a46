"""`fedloom export`: a federation's results as files: metrics (CSV and JSON), plots and image grids.

rounds.csv          one row per round: accuracy, std, uploads, bytes, phase durations
client_metrics.csv  one row per client and round: correct, total, accuracy, loss
metrics.json        the federation's state (config, rounds) and the per-client metrics
accuracy.png        accuracy per round with the per-client spread
timeline.png        phase durations per round
grids/round_R.png   FedKTL: the images generated in round R, one per class
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fedloom.algorithms import get_algorithm  # noqa: E402
from fedloom.ops.client import OperatorClient  # noqa: E402
from fedloom.ops.report import plot_rounds, write_grid  # noqa: E402
from fedloom.wire.control import ClientRoundMetrics, FederationState  # noqa: E402

PHASES = ("open", "collecting", "aggregating", "generating")
ROUND_COLUMNS = ["round", "phase", "accuracy", "accuracy_std", "uploads", "upload_bytes", "download_bytes", "clients"]


def write_rounds_csv(state: FederationState, path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROUND_COLUMNS + [f"{phase}_seconds" for phase in PHASES])
        for r in state.rounds:
            fields = [r.round, r.phase, r.accuracy, r.accuracy_std, r.uploads, r.upload_bytes, r.download_bytes]
            phases = [r.phase_seconds.get(phase, "") for phase in PHASES]
            writer.writerow([*fields, " ".join(map(str, r.clients)), *phases])


def write_client_csv(metrics: list[ClientRoundMetrics], path: Path) -> None:
    columns = list(ClientRoundMetrics.model_fields)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(m.model_dump() for m in metrics)


def plot_timeline(state: FederationState, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 1.6 + 0.3 * max(len(state.rounds), 1)), dpi=120)
    left = [0.0] * len(state.rounds)
    for phase in PHASES:
        widths = [r.phase_seconds.get(phase, 0.0) for r in state.rounds]
        ax.barh([r.round for r in state.rounds], widths, left=left, label=phase)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set(xlabel="seconds", ylabel="round", title=f"{state.config.algorithm}: round timeline")
    ax.set_yticks([r.round for r in state.rounds])
    ax.invert_yaxis()
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_grids(client: OperatorClient, state: FederationState, out: Path) -> list[str]:
    """One PNG per round that generated images (round R's images travel in round R + 1's package)."""
    if not get_algorithm(state.config.algorithm).needs_generator:
        return []
    written = []
    for r in state.rounds:
        package = client.package(state.federation_id, r.round + 1)
        path = out / "grids" / f"round_{r.round:03d}.png"
        if package is not None and write_grid(package, path):
            written.append(str(path.relative_to(out)))
    return written


def export_federation(client: OperatorClient, fid: str, out: Path) -> dict[str, Any]:
    """Write every file listed in the module docstring under `out`; returns what was written."""
    state, metrics = client.federation(fid), client.client_metrics(fid)
    (out / "grids").mkdir(parents=True, exist_ok=True)
    write_rounds_csv(state, out / "rounds.csv")
    write_client_csv(metrics, out / "client_metrics.csv")
    document = {"federation": state.model_dump(mode="json"), "client_metrics": [m.model_dump() for m in metrics]}
    (out / "metrics.json").write_text(json.dumps(document, indent=2) + "\n")
    plot_rounds(state, out / "accuracy.png")
    plot_timeline(state, out / "timeline.png")
    grids = write_grids(client, state, out)
    files = ["rounds.csv", "client_metrics.csv", "metrics.json", "accuracy.png", "timeline.png", *grids]
    return {"federation_id": fid, "status": state.status, "rounds": len(state.rounds), "out": str(out), "files": files}
