"""Server states saved after a round and restored into a fresh `init` continue bit for bit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ServerEnv, TrainSettings
from fedloom.generation.tiny import TinyGenerator
from fedloom.wire import ClientUpdate, GlobalPayload
from fedloom_aggregator.server_state import StateNotSaved, capture, from_bytes, restore, to_bytes

CLASSES, DIM = 4, 8
OPTIONS = {"fedktl": {"server_epochs": 3}, "fedtgp": {"server_epochs": 3}, "fedproto": {}, "local": {}}


def round_updates(algorithm: str, round_: int) -> list[ClientUpdate]:
    """Three clients' prototypes (C x C for FedKTL, C x K otherwise), different every round."""
    rng = torch.Generator().manual_seed(round_)
    width = CLASSES if algorithm == "fedktl" else DIM
    tensors = {"classes": torch.arange(CLASSES), "prototypes": torch.randn(CLASSES, width, generator=rng)}
    return [ClientUpdate(round=round_, client_id=c, num_samples=5, tensors=tensors) for c in range(3)]


def env() -> ServerEnv:
    return ServerEnv(CLASSES, DIM, TrainSettings(), seed=3, input_shape=(1, 8, 8), generator=TinyGenerator(16, 16, 8))


def same(a: GlobalPayload, b: GlobalPayload) -> bool:
    return (
        a.round == b.round
        and a.tensors.keys() == b.tensors.keys()
        and a.values == b.values
        and all(torch.equal(a.tensors[k], b.tensors[k]) for k in a.tensors)
    )


@pytest.mark.parametrize("algorithm", sorted(OPTIONS))
def test_a_restored_state_continues_like_the_original(algorithm: str) -> None:
    spec = get_algorithm(algorithm)
    server = spec.make_server(make_config(spec, OPTIONS[algorithm]))
    state = server.aggregate(server.init(env()), round_updates(algorithm, 0))
    tensors, scalars = from_bytes(to_bytes(*capture(state)))
    resumed = restore(server.init(env()), tensors, scalars)
    assert same(server.broadcast(resumed), server.broadcast(state))
    for round_ in (1, 2):
        state = server.aggregate(state, round_updates(algorithm, round_))
        resumed = server.aggregate(resumed, round_updates(algorithm, round_))
        assert same(server.broadcast(resumed), server.broadcast(state))


@dataclass
class OddState:
    round: int
    history: list[torch.Tensor]


def test_a_state_it_cannot_save_is_refused_clearly() -> None:
    with pytest.raises(StateNotSaved, match="'history' is a list"):
        capture(OddState(0, []))
    with pytest.raises(StateNotSaved, match="damaged"):
        from_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{not json")
