"""Plots people look at instead of reading JSON (matplotlib: the `plots` extra, optional for the core)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from fedloom.federation import RoundMetrics

log = logging.getLogger("fedloom.simulation")


def plot_accuracy(history: Sequence[RoundMetrics], path: Path, title: str) -> None:
    """Sample-weighted accuracy per round with a band of +- one per-client standard deviation."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("no %s: matplotlib is not installed (pip install 'fedloom[plots]')", path.name)
        return
    rounds = [m.round for m in history]
    acc = [m.accuracy for m in history]
    std = [m.accuracy_std for m in history]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ax.plot(rounds, acc, marker="o", markersize=3, label="accuracy (sample-weighted)")
    ax.fill_between(
        rounds,
        [a - s for a, s in zip(acc, std, strict=True)],
        [a + s for a, s in zip(acc, std, strict=True)],
        alpha=0.2,
        label="per-client spread (1 std)",
    )
    ax.set_xlabel("round")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
