"""`--workers N`: the same accuracies as one process for any N (1 thread each), and a worker that dies
stops the run with an error naming the clients it owned."""

import os
import signal
from pathlib import Path

import pytest
import torch
from workers_helpers import for_algorithm, metrics_rows

from fedloom.algorithms import get_algorithm, make_config
from fedloom.federation import run_federation
from fedloom.simulation import SimulationConfig
from fedloom.simulation.setup import build_env, load_dataset
from fedloom.simulation.workers import WorkerError, WorkerTransport, worker_transport
from fedloom.simulation.workers.host import ClientHost
from fedloom.simulation.workers.local import LocalWorkers
from fedloom.simulation.workers.messages import WorkerReply, WorkerRequest, setup_for
from fedloom.wire import GlobalPayload, RoundTask, decode, encode


@pytest.mark.parametrize("algorithm", ["fedproto", "fedtgp"])
def test_any_number_of_workers_gives_the_in_process_metrics(
    algorithm: str, federation: SimulationConfig, tmp_path: Path
) -> None:
    cfg = for_algorithm(federation, algorithm)
    alone, _ = metrics_rows(cfg, tmp_path / "in-process")
    one, _ = metrics_rows(cfg.model_copy(update={"workers": 1}), tmp_path / "one")
    two, summary = metrics_rows(cfg.model_copy(update={"workers": 2, "threads": 2}), tmp_path / "two")
    assert alone == one == two
    assert [r["clients"] for r in alone] == [4, 4, 4] and alone[-1]["accuracy"] > 0.3
    workers = summary["workers"]
    assert len(workers) == 2 and summary["threads"] == 2
    assert sorted(cid for w in workers for cid in w["clients"]) == [0, 1, 2, 3, 4]
    assert len({w["pid"] for w in workers} | {os.getpid()}) == 3  # two processes besides this one


def test_a_killed_worker_stops_the_run_naming_its_clients(federation: SimulationConfig) -> None:
    cfg = federation.model_copy(update={"workers": 2, "threads": 2, "rounds": 3})
    spec = get_algorithm(cfg.algorithm)
    server = spec.make_server(make_config(spec, cfg.options))
    dataset = load_dataset(cfg)
    rounds_done = []
    with worker_transport(cfg, dataset) as (transport, plan):
        victim = transport.backend.ready[1].pid

        def kill_after_first_round(metrics: object) -> None:
            rounds_done.append(metrics)
            if len(rounds_done) == 1:
                os.kill(victim, signal.SIGKILL)

        state = server.init(build_env(cfg, spec, dataset, torch.device("cpu")))
        with pytest.raises(WorkerError) as failure:
            run_federation(server, state, transport, [0, 1, 2, 3, 4], 3, 1.0, torch.Generator(), kill_after_first_round)
    assert len(rounds_done) == 1
    message = str(failure.value)
    assert f"pid {victim}" in message and "SIGKILL" in message
    assert str(plan.placement[1]) in message  # e.g. "clients [1, 3]"


def test_a_worker_that_cannot_build_its_clients_says_why(federation: SimulationConfig) -> None:
    broken = federation.model_copy(update={"models": "nosuchgroup"})
    with pytest.raises(WorkerError, match=r"(?s)worker 0 could not build clients \[0, 2\].*nosuchgroup"):
        LocalWorkers([setup_for(broken, [0, 2], threads=1)])


def test_a_failing_task_comes_back_as_an_error_naming_the_client(federation: SimulationConfig) -> None:
    host = ClientHost(setup_for(federation.model_copy(update={"clients": 2}), [0, 1], threads=1))
    payload = GlobalPayload(round=0)
    task = encode(RoundTask(kind="fit", round=0, client_id=7, payload=payload))  # not one of this worker's
    reply = decode(host.handle(encode(WorkerRequest(joins=[], tasks=[task]))), WorkerReply)
    assert reply.results == [] and reply.error.startswith("client 7:") and "KeyError" in reply.error


def test_a_client_failing_on_its_worker_fails_the_round_naming_it(federation: SimulationConfig) -> None:
    workers = LocalWorkers([setup_for(federation.model_copy(update={"clients": 2}), [0, 1], threads=1)])
    try:
        transport = WorkerTransport(workers, [[0, 1]])
        garbled = GlobalPayload(round=1, tensors={"prototypes": torch.zeros(3), "classes": torch.zeros(5)})
        with pytest.raises(WorkerError, match=r"worker 0 \(pid \d+ on .+\) failed on client 1: Traceback"):
            transport.fit([1], garbled, GlobalPayload(round=0))
    finally:
        workers.close()
