"""Shared set-up of the agent tests: one small FedTGP federation, its data spec, and the simulator's answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from fedloom.algorithms import get_algorithm, make_config
from fedloom.federation import FitOutcome, InProcessTransport, run_federation
from fedloom.simulation import SimulationConfig
from fedloom.simulation.setup import build_contexts, build_env, load_dataset
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload
from fedloom.wire.control import FederationConfig, TrainingConfig
from fedloom_agent import Agent, AgentSettings

SEED = 3
CLIENT_ID = 1
ROUNDS = 2
OPTIONS: dict[str, Any] = {"server_epochs": 5}
DATA_SPEC = f"synthetic,clients=2,index={CLIENT_ID},samples=300,partition=iid,seed={SEED},batch_size=10"
ENROLMENT_TOKEN = "enrol-once"


@contextmanager
def one_thread() -> Iterator[None]:
    """One intra-op thread: these tiny models gain nothing from two, and on a busy 2-core machine
    OpenMP threads waiting on each other cost several times the compute."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def federation_config(algorithm: str = "fedtgp", options: dict[str, Any] | None = None) -> FederationConfig:
    return FederationConfig(
        algorithm=algorithm,
        options=OPTIONS if options is None else options,
        num_classes=10,
        feature_dim=32,
        input_shape=(1, 28, 28),
        rounds=ROUNDS,
        training=TrainingConfig(local_epochs=1, batch_size=10, lr=0.01),
        seed=SEED,
    )


def agent_settings(url: str, state_dir: Path, **overrides: Any) -> AgentSettings:
    fields: dict[str, Any] = {
        "server_url": url,
        "enrollment_token": ENROLMENT_TOKEN,
        "data": DATA_SPEC,
        "model": "hcnn8",
        "state_dir": state_dir,
        "poll_wait": 0.2,
        "max_retries": 3,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
        "request_timeout": 10.0,
    }
    return AgentSettings(**(fields | overrides))


@dataclass
class RecordingTransport(InProcessTransport):
    """The simulator's transport, keeping every update and evaluation report by round."""

    updates: dict[int, ClientUpdate] = field(default_factory=dict)
    reports: dict[int, EvalReport] = field(default_factory=dict)

    def fit(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> FitOutcome:
        outcome = super().fit(client_ids, payload, bootstrap)
        self.updates[payload.round] = outcome.updates[0]
        return outcome

    def evaluate(self, client_ids: Sequence[int], payload: GlobalPayload, bootstrap: GlobalPayload) -> list[EvalReport]:
        reports = super().evaluate(client_ids, payload, bootstrap)
        self.reports[payload.round - 1] = reports[0]
        return reports


def simulate_reference() -> RecordingTransport:
    """The same federation (client 1 of the same data, same seeds) through `InProcessTransport`."""
    cfg = SimulationConfig(
        algorithm="fedtgp",
        options=OPTIONS,
        dataset="synthetic",
        dataset_options={"samples": 300},
        partition="iid",
        clients=2,
        rounds=ROUNDS,
        local_epochs=1,
        batch_size=10,
        lr=0.01,
        models="hcnn8",
        feature_dim=32,
        seed=SEED,
        device="cpu",
    )
    device = torch.device("cpu")
    dataset = load_dataset(cfg)
    spec = get_algorithm(cfg.algorithm)
    algorithm_config = make_config(spec, cfg.options)
    server = spec.make_server(algorithm_config)
    state = server.init(build_env(cfg, spec, dataset, device))
    transport = RecordingTransport(spec.make_client(algorithm_config), build_contexts(cfg, dataset, device))
    run_federation(server, state, transport, [CLIENT_ID], ROUNDS, 1.0, torch.Generator().manual_seed(SEED))
    return transport


def run_in_thread(agent: Agent, stop: threading.Event) -> tuple[threading.Thread, list[BaseException]]:
    """Start `agent.run(stop)` in a thread; the list collects what it raised."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            agent.run(stop)
        except BaseException as exc:  # the test inspects it
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, errors
