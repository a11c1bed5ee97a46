"""Run a simulated federation and write its results: metrics.jsonl, summary.json, accuracy.png and
package.msgpack (the last package the server published, wire-encoded: `fedloom synthesize` reads it)."""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from tqdm import tqdm

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ClientAlgorithm
from fedloom.data.types import FederatedDataset
from fedloom.federation import InProcessTransport, RoundMetrics, Transport, run_federation
from fedloom.models import group_architectures
from fedloom.runtime import resolve_device
from fedloom.simulation.config import SimulationConfig
from fedloom.simulation.plots import plot_accuracy
from fedloom.simulation.setup import build_contexts, build_env, load_dataset
from fedloom.simulation.workers import worker_transport
from fedloom.wire import GlobalPayload, encode

FINAL_PACKAGE = "package.msgpack"


@dataclass(frozen=True)
class SimulationResult:
    history: list[RoundMetrics]
    summary: dict[str, Any]
    final_payload: GlobalPayload


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def summarise(cfg: SimulationConfig, history: list[RoundMetrics], setup_seconds: float) -> dict[str, Any]:
    best = max(history, key=lambda m: m.accuracy)
    return {
        "best_accuracy": best.accuracy,
        "best_round": best.round,
        "final_accuracy": history[-1].accuracy,
        "rounds": len(history),
        "mean_round_seconds": sum(m.seconds for m in history) / len(history),
        "setup_seconds": setup_seconds,
        "peak_rss_mb": peak_rss_mb(),
        "other_models": other_models(history),
        "privacy": privacy_summary(cfg, history),
        "config": cfg.model_dump(mode="json"),
    }


def privacy_summary(cfg: SimulationConfig, history: list[RoundMetrics]) -> dict[str, Any] | None:
    """The planned settings (noise multiplier included) and the largest epsilon any client spent."""
    if cfg.privacy is None:
        return None
    spent = history[-1].epsilon_by_client
    return {**cfg.privacy.model_dump(), "epsilon_spent_max": max(spent.values(), default=0.0)}


def other_models(history: list[RoundMetrics]) -> dict[str, dict[str, float | int]]:
    """Best and last accuracy of each of the clients' other models (Ditto's global one, FedBABU's fine-tuned
    one), over the rounds that evaluated it; `best_accuracy` above is the clients' models' only."""
    out: dict[str, dict[str, float | int]] = {}
    for name in sorted({name for m in history for name in m.other_accuracy}):
        rounds = [m for m in history if name in m.other_accuracy]
        best = max(rounds, key=lambda m: m.other_accuracy[name])
        out[name] = {
            "best_accuracy": best.other_accuracy[name],
            "best_round": best.round,
            "final_accuracy": rounds[-1].other_accuracy[name],
            "final_round": rounds[-1].round,
        }
    return out


class RoundReporter:
    """Per round: a progress bar update and one flushed JSON line, so a crash loses no finished round."""

    def __init__(self, cfg: SimulationConfig, progress: bool) -> None:
        self.file = None
        if cfg.out is not None:
            cfg.out.mkdir(parents=True, exist_ok=True)
            self.file = (cfg.out / "metrics.jsonl").open("w")
        self.bar = tqdm(total=cfg.rounds, desc=cfg.algorithm, unit="round", disable=not progress, file=sys.stderr)

    def __call__(self, metrics: RoundMetrics) -> None:
        if self.file is not None:
            self.file.write(json.dumps(metrics.as_dict()) + "\n")
            self.file.flush()
        self.bar.set_postfix(
            acc=f"{metrics.accuracy:.4f}", loss=f"{metrics.train_loss:.3f}", s=f"{metrics.seconds:.1f}"
        )
        self.bar.update()

    def __enter__(self) -> RoundReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
        if self.file is not None:
            self.file.close()


def run_simulation(cfg: SimulationConfig, progress: bool = True) -> SimulationResult:
    """Build the federation described by `cfg`, run it, write outputs under `cfg.out` (if set).

    `cfg.threads` sets torch's CPU threads for the run only (with workers: in all, split among them, and
    the server half here gets one worker's share); the caller's setting is restored after.
    """
    previous = torch.get_num_threads()
    try:
        return simulate(cfg, progress)
    finally:
        torch.set_num_threads(previous)


@contextmanager
def open_transport(
    cfg: SimulationConfig, client: ClientAlgorithm, dataset: FederatedDataset, device: torch.device
) -> Iterator[tuple[Transport, dict[str, Any]]]:
    """The clients in this process, or on workers (`cfg.workers` / `cfg.ray`); plus what the summary says of them."""
    if not cfg.parallel:
        if cfg.threads is not None:
            torch.set_num_threads(cfg.threads)
        yield InProcessTransport(client, build_contexts(cfg, dataset, device)), {"threads": torch.get_num_threads()}
        return
    with worker_transport(cfg, dataset) as (transport, plan):
        torch.set_num_threads(plan.threads_per_worker)  # the server half: one worker's share, as runs compare alike
        yield transport, {"threads": plan.threads_per_worker * plan.workers, "workers": transport.describe()}


def simulate(cfg: SimulationConfig, progress: bool) -> SimulationResult:
    started = time.perf_counter()
    spec = get_algorithm(cfg.algorithm)
    spec.check_architectures(group_architectures(cfg.models))
    spec.check_privacy(cfg.privacy)
    algorithm_config = make_config(spec, cfg.options)
    device = resolve_device(cfg.device)
    dataset = load_dataset(cfg)
    client_ids = sorted(data.client_id for data in dataset.clients)
    with open_transport(cfg, spec.make_client(algorithm_config), dataset, device) as (transport, placement):
        server = spec.make_server(algorithm_config)
        state = server.init(build_env(cfg, spec, dataset, device))
        setup_seconds = time.perf_counter() - started
        with RoundReporter(cfg, progress) as report:
            rng = torch.Generator().manual_seed(cfg.seed)
            outcome = run_federation(server, state, transport, client_ids, cfg.rounds, cfg.join_ratio, rng, report)
    summary = {**summarise(cfg, outcome.history, setup_seconds), **placement}
    if cfg.out is not None:
        (cfg.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (cfg.out / FINAL_PACKAGE).write_bytes(encode(outcome.final_payload))
        plot_accuracy(outcome.history, cfg.out / "accuracy.png", title=f"{cfg.algorithm} on {cfg.dataset}")
    return SimulationResult(history=outcome.history, summary=summary, final_payload=outcome.final_payload)
