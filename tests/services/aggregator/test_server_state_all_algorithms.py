"""Every registered algorithm's server state survives a save and a restore (what a restarted aggregator needs):
one real round on synthetic clients, then the restored state publishes and aggregates like the original."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_server_state import same

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.registry import algorithm_names
from fedloom.simulation import SimulationConfig
from fedloom.simulation.setup import build_contexts, build_env, load_dataset
from fedloom_aggregator.server_state import capture, from_bytes, restore, to_bytes

FAST = {
    "fedktl": {"server_epochs": 2},
    "fedtgp": {"server_epochs": 2},
    "fedgen": {"server_epochs": 2},
    "fedmrl": {"shared_feature_dim": 8},
}


@pytest.mark.parametrize("algorithm", algorithm_names())
def test_a_restored_state_publishes_and_aggregates_like_the_original(algorithm: str, tmp_path: Path) -> None:
    spec = get_algorithm(algorithm)
    options = {k: v for k, v in FAST.get(algorithm, {}).items() if k in spec.config_type.model_fields}
    cfg = SimulationConfig(
        algorithm=algorithm, dataset="synthetic", clients=2, rounds=1, models="cnn4", feature_dim=16,
        options=options, generator="tiny", out=tmp_path,
    )  # fmt: skip
    dataset, device = load_dataset(cfg), torch.device("cpu")
    contexts, env = build_contexts(cfg, dataset, device), build_env(cfg, spec, dataset, device)
    server, client = spec.make_server(make_config(spec, options)), spec.make_client(make_config(spec, options))
    state = server.init(env)
    bootstrap, payload = server.bootstrap(state), server.broadcast(state)
    for ctx in contexts.values():
        client.join(ctx, bootstrap)
    updates = [client.fit(ctx, payload) for ctx in contexts.values()]
    state = server.aggregate(state, updates)
    resumed = restore(server.init(env), *from_bytes(to_bytes(*capture(state))))
    assert same(server.broadcast(resumed), server.broadcast(state))
    assert same(
        server.broadcast(server.aggregate(resumed, updates)), server.broadcast(server.aggregate(state, updates))
    )
