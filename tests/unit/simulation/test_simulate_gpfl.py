"""GPFL in `fedloom simulate`: cnn4 for every client, three short rounds on synthetic data; repeatable, the
base + GCE + CoV both ways (1,109,376 floats on 1x28x28, C = 10), learning, and the refusal of several
architectures."""

import pytest

from fedloom.cli import main
from fedloom.errors import ConfigError
from fedloom.simulation import SimulationConfig, run_simulation

FLOATS = 1_109_376  # base 576,896 + GCE 5,120 + CoV 527,360 (pfl_algorithms.md 12)
ENVELOPE = 2_000  # upper bound on a message's bytes beyond its float32 tensors (names, shapes, fields)


def config(**options: object) -> SimulationConfig:
    return SimulationConfig(
        algorithm="gpfl",
        options=dict(options),
        dataset="synthetic",
        dataset_options={"samples": 600},
        lr=0.02,  # 0.05 (FedRep's test) is too much here: the valve's LayerNorm outputs make |f| about 18
        local_epochs=2,
        clients=3,
        rounds=3,
        models="cnn4",
        seed=1,
        device="cpu",
        threads=1,
    )


def test_two_rounds_learn_repeat_exactly_and_send_base_gce_and_cov() -> None:
    cfg = config()
    first, second = run_simulation(cfg, progress=False), run_simulation(cfg, progress=False)
    assert [m.accuracy for m in first.history] == [m.accuracy for m in second.history]
    assert [m.train_loss for m in first.history] == [m.train_loss for m in second.history]
    assert sum(t.numel() for t in first.final_payload.tensors.values()) == FLOATS
    for m in first.history:  # three clients, float32 each way; round 0 also carries the small bootstrap
        assert 3 * 4 * FLOATS < m.upload_bytes < 3 * (4 * FLOATS + ENVELOPE)
        assert 3 * 4 * FLOATS < m.download_bytes < 3 * (4 * FLOATS + 2 * ENVELOPE)
    assert first.history[-1].accuracy > 0.8
    assert first.summary["other_models"] == {}


def test_a_heterogeneous_group_is_refused_before_any_round() -> None:
    with pytest.raises(ConfigError, match="needs one architecture for every client; got cnn4, cnn_c1"):
        run_simulation(config().model_copy(update={"models": "hcnn8"}), progress=False)


def test_the_command_runs_gpfl_with_its_options() -> None:
    args = ["simulate", "--algorithm", "gpfl", "--models", "cnn4", "--clients", "2", "--rounds", "1", "--quiet"]
    assert main([*args, "--dataset-option", "samples=100", "-o", "lam=0.01", "-o", "mu=0.1"]) == 0
