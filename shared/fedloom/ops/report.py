"""What a finished demo leaves behind: a table on stdout, accuracy.png, generated_grid.png, summary.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fedloom.wire import GlobalPayload, decode  # noqa: E402
from fedloom.wire.control import FederationState  # noqa: E402


def table(state: FederationState) -> str:
    """One line per round; with privacy an epsilon column (the largest any client has spent so far)."""
    private = state.config.training.privacy is not None
    header = f"{'round':>5}  {'accuracy':>8}  {'std':>6}  {'upload B':>9}  {'download B':>10}  "
    header += f"{'epsilon':>7}  phases (s)" if private else "phases (s)"
    rows = [header, "-" * len(header)]
    for r in state.rounds:
        phases = " ".join(f"{k}={v:.1f}" for k, v in r.phase_seconds.items())
        epsilon = f"{r.epsilon_max or 0:>7.3f}  " if private else ""
        rows.append(
            f"{r.round:>5}  {r.accuracy or 0:>8.4f}  {r.accuracy_std or 0:>6.3f}  {r.upload_bytes:>9}  "
            f"{r.download_bytes:>10}  {epsilon}{phases}"
        )
    return "\n".join(rows)


def plot_rounds(state: FederationState, path: Path) -> None:
    rounds = [r.round for r in state.rounds]
    acc = [r.accuracy or 0.0 for r in state.rounds]
    std = [r.accuracy_std or 0.0 for r in state.rounds]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ax.plot(rounds, acc, marker="o", label="accuracy (sample-weighted)")
    ax.fill_between(
        rounds,
        [a - s for a, s in zip(acc, std, strict=True)],
        [a + s for a, s in zip(acc, std, strict=True)],
        alpha=0.2,
        label="per-client spread (1 std)",
    )
    ax.set(xlabel="round", ylabel="test accuracy", ylim=(0, 1), title=f"{state.config.algorithm} (services)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_grid(package: bytes, path: Path) -> bool:
    """The package's generated images (normalised to [-1, 1] for clients) as a PNG, one per class."""
    from fedloom.generation.grid import save_image_grid

    images = decode(package, GlobalPayload).tensors.get("images")
    if images is None:
        return False
    save_image_grid((images + 1) / 2, path, nrow=len(images), scale=4)
    return True


def write_report(
    out: Path, state: FederationState, package: bytes | None, notes: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The table on stdout, the plots, and summary.json (with `notes`, e.g. the data set and its warning, first)."""
    out.mkdir(parents=True, exist_ok=True)
    sys.stdout.write(table(state) + "\n")
    plot_rounds(state, out / "accuracy.png")
    grid = write_grid(package, out / "generated_grid.png") if package else False
    accuracies = [r.accuracy or 0.0 for r in state.rounds]
    summary = {
        **(notes or {}),
        "federation_id": state.federation_id,
        "status": state.status,
        "rounds": len(state.rounds),
        "final_accuracy": accuracies[-1] if accuracies else None,
        "best_accuracy": max(accuracies) if accuracies else None,
        "generated_grid": grid,
        "config": state.config.model_dump(mode="json"),
        "per_round": [r.model_dump(mode="json") for r in state.rounds],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
