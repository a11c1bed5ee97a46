"""Threads split within what was asked; clients balanced over workers by their work; a worker gets its
run's settings with only the fields the user set (so a `pfl:` folder's own client count survives)."""

import pytest

from fedloom.data import DatasetSpec, load_federated_dataset
from fedloom.errors import ConfigError
from fedloom.simulation import SimulationConfig
from fedloom.simulation.workers.messages import setup_for
from fedloom.simulation.workers.plan import (
    SECONDS_PER_FLOP,
    SECONDS_PER_PARAMETER_STEP,
    SECONDS_PER_STEP,
    available_cores,
    balance,
    client_costs,
    make_plan,
    model_size,
    split_threads,
)


def test_threads_split_evenly_and_never_exceed_the_total() -> None:
    assert split_threads(8, 3) == 2  # 3 x 2 = 6 <= 8
    assert split_threads(2, 2) == 1
    with pytest.raises(ConfigError, match="3 workers need at least 3 threads"):
        split_threads(2, 3)
    assert available_cores() >= 1


def test_longest_work_first_to_the_least_loaded_worker() -> None:
    costs = {0: 5.0, 1: 4.0, 2: 3.0, 3: 3.0, 4: 2.0, 5: 1.0}
    # 5 -> w0; 4 -> w1; 3 -> w1 (4+3=7); 3 -> w0 (5+3=8); 2 -> w1 (9); 1 -> w0 (9)
    assert balance(costs, 2) == [[0, 3, 5], [1, 2, 4]]
    assert balance(costs, 1) == [[0, 1, 2, 3, 4, 5]]
    assert balance({7: 1.0, 3: 1.0}, 2) == [[3], [7]]  # equal costs: lower id first, to worker 0


def test_more_workers_than_clients_are_capped() -> None:
    plan = make_plan(4, 4, {0: 1.0, 1: 1.0})
    assert plan.workers == 2 and plan.threads_per_worker == 2
    assert plan.placement == [[0], [1]]


def test_costs_follow_the_fitted_step_time() -> None:
    dataset = load_federated_dataset(DatasetSpec(name="synthetic", num_clients=16, seed=0))
    costs = client_costs(dataset, "hcnn8", 512, local_epochs=1, batch_size=10)
    assert set(costs) == {c.client_id for c in dataset.clients}
    by_id = {c.client_id: c for c in dataset.clients}
    flops, parameters = model_size("cnn_c1", dataset, 512)  # clients 0 and 8
    assert parameters == 2_365_770  # htfllib_fmnist.md's HCNNs8 model 0
    for cid in (0, 8):
        step = SECONDS_PER_FLOP * 30 * flops + SECONDS_PER_PARAMETER_STEP * parameters + SECONDS_PER_STEP
        expected = by_id[cid].num_train / 10 * step + SECONDS_PER_FLOP * flops * by_id[cid].num_test
        assert costs[cid] == pytest.approx(expected)
    assert client_costs(dataset, "hcnn8", 512, local_epochs=2, batch_size=10)[0] > costs[0]
    assert client_costs(dataset, "hcnn8", 512, local_epochs=1, batch_size=50)[0] < costs[0]  # fewer steps


def test_a_wide_layer_costs_more_than_its_flops_say() -> None:
    """cnn_c1 (4608 -> 512 layer: 5.7 MFLOP, 2.37 M parameters) took 6.2 ms a batch-10 step on the fitted host,
    cnn4 (8.5 MFLOP, 0.58 M) 4.8 ms: by FLOPs alone cnn_c1 would look a third cheaper."""
    dataset = load_federated_dataset(DatasetSpec(name="synthetic", num_clients=2, seed=0))
    (c1_flops, _), (cnn4_flops, _) = model_size("cnn_c1", dataset, 512), model_size("cnn4", dataset, 512)
    assert c1_flops < cnn4_flops
    per_sample = {
        cid: cost / dataset.clients[cid].num_train
        for cid, cost in client_costs(dataset, "hcnn8", 512, local_epochs=1, batch_size=10).items()
    }
    assert per_sample[0] > per_sample[1] * 1.1  # client 0: cnn_c1, client 1: cnn4


def test_workers_get_only_the_settings_the_user_set() -> None:
    cfg = SimulationConfig(algorithm="fedproto", dataset="synthetic", rounds=3).model_copy(update={"workers": 2})
    setup = setup_for(cfg, [1, 3], threads=1)
    rebuilt = SimulationConfig.model_validate_json(setup.config)
    assert rebuilt == cfg
    assert "clients" not in rebuilt.model_fields_set  # a pfl: folder keeps its own client count on the worker
