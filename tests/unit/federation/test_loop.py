import torch

from fedloom.federation.loop import sample_clients, weighted_accuracy
from fedloom.wire import EvalReport


def report(cid: int, correct: int, total: int) -> EvalReport:
    return EvalReport(round=0, client_id=cid, correct=correct, total=total)


def test_sampling_picks_the_join_ratio_without_replacement_and_is_seeded() -> None:
    ids = list(range(10, 30))
    a = sample_clients(ids, 0.5, torch.Generator().manual_seed(1))
    b = sample_clients(ids, 0.5, torch.Generator().manual_seed(1))
    assert a == b and len(a) == 10 and len(set(a)) == 10 and set(a) <= set(ids)
    assert sample_clients(ids, 0.01, torch.Generator()) != []  # at least one client
    assert sample_clients(ids, 1.0, torch.Generator()) == ids


def test_accuracy_is_weighted_by_samples_and_spread_is_per_client() -> None:
    accuracy, spread = weighted_accuracy([report(0, 9, 10), report(1, 10, 90)])
    assert accuracy == 19 / 100
    # per-client accuracies 0.9 and 1/9: population std = |0.9 - 1/9| / 2
    assert abs(spread - (0.9 - 1 / 9) / 2) < 1e-12
    assert weighted_accuracy([]) == (0.0, 0.0)
