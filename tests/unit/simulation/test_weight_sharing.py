"""FML, FedKD and FedMRL in `fedloom simulate`: heterogeneous hcnn8 clients share a model of client 0's
architecture; two rounds on synthetic data, deterministic under a fixed seed."""

import pytest
import torch

from fedloom.models import build_model, count_parameters
from fedloom.simulation import SimulationConfig, run_simulation

ALGORITHMS = ["fml", "fedkd", "fedmrl"]


def config(algorithm: str) -> SimulationConfig:
    return SimulationConfig(
        algorithm=algorithm,
        dataset="synthetic",
        dataset_options={"samples": 400},
        clients=3,
        rounds=2,
        models="hcnn8",
        seed=3,
        device="cpu",
        threads=1,
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_two_rounds_learn_and_repeat_exactly(algorithm: str) -> None:
    first = run_simulation(config(algorithm), progress=False)
    second = run_simulation(config(algorithm), progress=False)
    assert [m.round for m in first.history] == [0, 1]
    assert first.history[-1].accuracy > 0.3
    assert [m.accuracy for m in first.history] == [m.accuracy for m in second.history]
    assert [m.train_loss for m in first.history] == [m.train_loss for m in second.history]
    assert first.final_payload.tensors.keys() == second.final_payload.tensors.keys()
    for name, tensor in first.final_payload.tensors.items():
        assert torch.equal(tensor, second.final_payload.tensors[name]), name


def test_fml_clients_upload_a_model_of_client_zeros_architecture() -> None:
    result = run_simulation(config("fml"), progress=False)
    shared = count_parameters(build_model("cnn_c1", (1, 28, 28), 10, 512))
    assert sum(t.numel() for t in result.final_payload.tensors.values()) == shared
    assert result.history[0].upload_bytes > 3 * 4 * shared  # three clients, float32, plus the envelope


def test_fedmrl_shares_a_small_model_of_the_configured_feature_dim() -> None:
    cfg = config("fedmrl").model_copy(update={"options": {"shared_feature_dim": 32}})
    result = run_simulation(cfg, progress=False)
    assert result.final_payload.tensors["shared.head.weight"].shape == (10, 32)
