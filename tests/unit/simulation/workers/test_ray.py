"""`--ray local`: Ray actors as workers give the in-process metrics exactly; a killed actor stops the run
naming its clients (actors are not restarted)."""

import os
import signal
from pathlib import Path

import pytest
import ray  # noqa: E402,F401  (a dev dependency: the tests fail, not skip, without it)
import torch
from workers_helpers import for_algorithm, metrics_rows

from fedloom.algorithms import get_algorithm, make_config
from fedloom.errors import ConfigError
from fedloom.federation import run_federation
from fedloom.simulation import SimulationConfig
from fedloom.simulation.setup import build_env, load_dataset
from fedloom.simulation.workers import WorkerError, worker_transport
from fedloom.simulation.workers.ray_actors import check_gpus, gpus_for


@pytest.mark.parametrize("algorithm", ["fedproto", "fedtgp"])
def test_ray_actors_give_the_in_process_metrics(algorithm: str, federation: SimulationConfig, tmp_path: Path) -> None:
    cfg = for_algorithm(federation, algorithm)
    alone, _ = metrics_rows(cfg, tmp_path / "in-process")
    on_ray, summary = metrics_rows(cfg.model_copy(update={"ray": "local", "threads": 2}), tmp_path / "ray")
    assert on_ray == alone
    assert len(summary["workers"]) == 2 and all(w["node"] for w in summary["workers"])


def test_a_killed_actor_stops_the_run_naming_its_clients(federation: SimulationConfig) -> None:
    cfg = federation.model_copy(update={"ray": "local", "threads": 2})
    spec = get_algorithm(cfg.algorithm)
    server = spec.make_server(make_config(spec, cfg.options))
    dataset = load_dataset(cfg)
    with worker_transport(cfg, dataset) as (transport, plan):
        victim = transport.backend.ready[0].pid
        state = server.init(build_env(cfg, spec, dataset, torch.device("cpu")))
        os.kill(victim, signal.SIGKILL)
        with pytest.raises(WorkerError) as failure:
            run_federation(server, state, transport, [0, 1, 2, 3, 4], 1, 1.0, torch.Generator())
    assert f"Ray worker 0 died; it owned clients {plan.placement[0]}" in str(failure.value)


def test_gpu_fractions_add_up_per_actor() -> None:
    assert gpus_for(4, 0.25) == 1.0 and gpus_for(2, 0.25) == 0.5 and gpus_for(8, 0.5) == 4.0
    with pytest.raises(ConfigError, match="1.5 GPUs for one actor"):
        gpus_for(3, 0.5)


def test_gpus_the_cluster_lacks_are_refused_at_once() -> None:
    check_gpus([4, 4], 0.25, {"CPU": 2.0, "GPU": 2.0})
    with pytest.raises(ConfigError, match=r"--gpus-per-client 0.5 for 8 clients needs 4 GPUs; the Ray cluster has 2"):
        check_gpus([4, 4], 0.5, {"CPU": 2.0, "GPU": 2.0})
    with pytest.raises(ConfigError, match="the Ray cluster has 0"):
        check_gpus([1], 0.1, {"CPU": 2.0})
