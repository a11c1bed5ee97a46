"""The round loop, written once for every transport (in-process, REST + Redis).

Round r: sample clients, send them the package, collect uploads, aggregate; then every client
evaluates its model with the new package. So round r's accuracy includes round r's training (HtFLlib
evaluated before training, so it never evaluated its last round). PFLlib's clients evaluate right after
they receive the server's parts and before they train on them; here that is the evaluation of round r
with the package of round r + 1, the same model (the weight-sharing plug-ins load the package in
`evaluate` exactly as in `fit`), so its accuracy is PFLlib's of iteration r + 1.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from fedloom.algorithms.base import ServerAlgorithm
from fedloom.federation.transport import Transport
from fedloom.privacy.ledger import EPSILON
from fedloom.wire import EvalReport, GlobalPayload


@dataclass(frozen=True)
class RoundMetrics:
    round: int
    accuracy: float
    accuracy_std: float
    train_loss: float
    upload_bytes: int
    download_bytes: int
    seconds: float
    clients: int
    uploads: int
    server: dict[str, float]
    other_accuracy: dict[str, float] = field(default_factory=dict)
    """Sample-weighted accuracy of the clients' other models by name (`EvalReport.other_correct`)."""
    epsilon_by_client: dict[int, float] = field(default_factory=dict)
    """With privacy: the epsilon each client has spent so far (its last upload's `epsilon`), by client id."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FederationOutcome:
    """Every round's metrics plus the last package the server published (its final global state)."""

    history: list[RoundMetrics]
    final_payload: GlobalPayload


def sample_clients(client_ids: Sequence[int], join_ratio: float, rng: torch.Generator) -> list[int]:
    """int(n * join_ratio) clients (at least one) without replacement, in ascending id order."""
    count = max(1, int(len(client_ids) * join_ratio))
    picked = torch.randperm(len(client_ids), generator=rng)[:count]
    return sorted(client_ids[i] for i in picked.tolist())


def weighted_accuracy(reports: Sequence[EvalReport]) -> tuple[float, float]:
    """Sample-weighted accuracy over all clients, and the (unweighted) std of per-client accuracies."""
    total = sum(r.total for r in reports)
    accuracy = sum(r.correct for r in reports) / total if total else 0.0
    per_client = [r.correct / r.total for r in reports if r.total]
    spread = statistics.pstdev(per_client) if len(per_client) > 1 else 0.0
    return accuracy, spread


def other_accuracies(reports: Sequence[EvalReport]) -> dict[str, float]:
    """For each name in any report's `other_correct`: its correct predictions over the test samples of the
    clients that reported it."""
    names = sorted({name for r in reports for name in r.other_correct})
    accuracies = {}
    for name in names:
        holders = [r for r in reports if name in r.other_correct]
        total = sum(r.total for r in holders)
        accuracies[name] = sum(r.other_correct[name] for r in holders) / total if total else 0.0
    return accuracies


def run_federation(
    server: ServerAlgorithm[Any],
    state: Any,
    transport: Transport,
    client_ids: Sequence[int],
    rounds: int,
    join_ratio: float,
    rng: torch.Generator,
    on_round: Callable[[RoundMetrics], None] = lambda _: None,
    on_state: Callable[[int, Any, torch.Generator], None] = lambda *_: None,
    first_round: int = 0,
) -> FederationOutcome:
    """Run rounds `first_round` .. `rounds - 1`; `on_round` sees each round's metrics as soon as it is done,
    then `on_state(next_round, state, rng)` the state to resume from (`state` and `rng` as they were
    after round `first_round - 1` when resuming)."""
    history, spent = [], dict[int, float]()
    bootstrap, payload = server.bootstrap(state), server.broadcast(state)
    for round_ in range(first_round, rounds):
        started = time.perf_counter()
        selected = sample_clients(client_ids, join_ratio, rng)
        outcome = transport.fit(selected, payload, bootstrap)
        state = server.aggregate(state, outcome.updates)
        payload = server.broadcast(state)
        reports = transport.evaluate(client_ids, payload, bootstrap)
        accuracy, spread = weighted_accuracy(reports)
        losses = [u.values.get("loss", 0.0) for u in outcome.updates]
        spent |= {u.client_id: u.values[EPSILON] for u in outcome.updates if EPSILON in u.values}
        metrics = RoundMetrics(
            round=round_,
            accuracy=accuracy,
            accuracy_std=spread,
            train_loss=sum(losses) / max(len(losses), 1),
            upload_bytes=outcome.upload_bytes,
            download_bytes=outcome.download_bytes,
            seconds=time.perf_counter() - started,
            clients=len(selected),
            uploads=len(outcome.updates),
            server=dict(payload.values),
            other_accuracy=other_accuracies(reports),
            epsilon_by_client=dict(sorted(spent.items())),
        )
        history.append(metrics)
        on_round(metrics)
        on_state(round_ + 1, state, rng)
    return FederationOutcome(history=history, final_payload=payload)
