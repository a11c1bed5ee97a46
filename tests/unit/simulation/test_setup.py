"""Client contexts: initial weights per architecture, batch order per client, both from the run seed."""

import torch

from fedloom.simulation import SimulationConfig
from fedloom.simulation.setup import build_contexts, load_dataset


def weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_clients_of_one_architecture_start_alike_and_draw_their_own_batches(small_config: SimulationConfig) -> None:
    cfg = small_config.model_copy(update={"models": "cpu4", "clients": 8, "dataset": "synthetic"})
    dataset = load_dataset(cfg.model_copy(update={"rounds": 1}))
    contexts = build_contexts(cfg, dataset, torch.device("cpu"))
    first, twin, other = contexts[0], contexts[4], contexts[1]  # client i gets architecture i mod 4
    assert first.model.arch == twin.model.arch != other.model.arch
    assert same(weights(first.model), weights(twin.model))
    assert not same(weights(first.model), weights(other.model))
    assert not torch.equal(torch.randperm(50, generator=first.rng), torch.randperm(50, generator=twin.rng))
    reseeded = build_contexts(cfg.model_copy(update={"seed": 1}), dataset, torch.device("cpu"))
    assert not same(weights(first.model), weights(reseeded[0].model))
