"""FedAvg and the personalised algorithms (FedPer, FedRep, FedBABU, Ditto, FedCP) in `fedloom simulate`: cnn4 for
every client, two rounds on synthetic data; what travels, what is evaluated, and the refusal of a
heterogeneous model group."""

import pytest
import torch

from fedloom.algorithms.global_model import WHOLE_MODEL, load_model
from fedloom.cli import main
from fedloom.errors import ConfigError
from fedloom.models import build_model
from fedloom.simulation import SimulationConfig, run_simulation
from fedloom.simulation.setup import load_dataset

WHOLE, BASE = 582_026, 576_896  # floats of cnn4 on 1x28x28 with C = 10, and of its base
FEDCP = 1_109_386  # base + head_g + the policy network (527,360), pfl_algorithms.md 9
SHARED_FLOATS = {"fedavg": WHOLE, "ditto": WHOLE, "fedper": BASE, "fedrep": BASE, "fedbabu": BASE, "fedcp": FEDCP}
ENVELOPE = 2_000  # upper bound on a message's bytes beyond its float32 tensors (names, shapes, fields)


def config(algorithm: str, **options: object) -> SimulationConfig:
    return SimulationConfig(
        algorithm=algorithm,
        options=dict(options),
        dataset="synthetic",
        dataset_options={"samples": 600},
        lr=0.05,
        clients=3,
        rounds=2,
        models="cnn4",
        seed=1,
        device="cpu",
        threads=1,
    )


@pytest.mark.parametrize("algorithm", sorted(SHARED_FLOATS))
def test_two_rounds_learn_repeat_exactly_and_send_the_shared_part(algorithm: str) -> None:
    cfg = config(algorithm)
    first, second = run_simulation(cfg, progress=False), run_simulation(cfg, progress=False)
    assert [m.round for m in first.history] == [0, 1]
    assert [m.accuracy for m in first.history] == [m.accuracy for m in second.history]
    assert [m.train_loss for m in first.history] == [m.train_loss for m in second.history]
    floats = SHARED_FLOATS[algorithm]
    assert sum(t.numel() for t in first.final_payload.tensors.values()) == floats
    for m in first.history:  # three clients, float32 each way; round 0 also carries the small bootstrap
        assert 3 * 4 * floats < m.upload_bytes < 3 * (4 * floats + ENVELOPE)
        assert 3 * 4 * floats < m.download_bytes < 3 * (4 * floats + 2 * ENVELOPE)
    assert first.history[-1].accuracy > 0.5


def test_fedavg_accuracy_is_the_global_models() -> None:
    cfg = config("fedavg")
    result = run_simulation(cfg, progress=False)
    model = build_model("cnn4", (1, 28, 28), 10).eval()
    load_model(model, result.final_payload.tensors, WHOLE_MODEL)
    clients = load_dataset(cfg).clients
    with torch.no_grad():
        correct = sum(int((model(c.test_x).argmax(1) == c.test_y).sum()) for c in clients)
    assert result.history[-1].accuracy == correct / sum(c.num_test for c in clients)
    assert result.summary["other_models"] == {}


def test_ditto_reports_the_personal_models_and_the_global_one_beside_them() -> None:
    result = run_simulation(config("ditto", mu=0.1), progress=False)
    assert all(set(m.other_accuracy) == {"global"} for m in result.history)
    others = result.summary["other_models"]["global"]
    assert others["final_accuracy"] == result.history[-1].other_accuracy["global"]
    assert result.summary["best_accuracy"] == max(m.accuracy for m in result.history)


def test_fedbabu_fine_tunes_after_the_last_round_only() -> None:
    result = run_simulation(config("fedbabu", fine_tuning_epochs=3), progress=False)
    assert [set(m.other_accuracy) for m in result.history] == [set(), {"finetuned"}]
    assert result.history[-1].server == {"fine_tune": 1.0}
    tuned = result.summary["other_models"]["finetuned"]
    assert tuned["final_round"] == 1 and tuned["final_accuracy"] > result.history[-1].accuracy
    assert result.summary["best_accuracy"] == max(m.accuracy for m in result.history)  # never the fine-tuned one
    none = run_simulation(config("fedbabu", fine_tuning_epochs=0), progress=False)
    assert all(m.other_accuracy == {} for m in none.history)


@pytest.mark.parametrize("algorithm", sorted(SHARED_FLOATS))
def test_a_heterogeneous_group_is_refused_before_any_round(algorithm: str) -> None:
    cfg = config(algorithm).model_copy(update={"models": "hcnn8"})
    with pytest.raises(ConfigError, match="needs one architecture for every client; got cnn4, cnn_c1"):
        run_simulation(cfg, progress=False)


def test_the_command_runs_fedavg_on_cnn4_and_refuses_hcnn8(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--algorithm", "fedavg", "--models", "cnn4", "--clients", "2", "--rounds", "1", "--quiet"]
    assert main([*args, "--dataset-option", "samples=100"]) == 0
    assert main([*args[:4], "hcnn8", *args[5:]]) != 0
    assert "fedavg averages the clients' model weights" in capsys.readouterr().err
