import torch

from fedloom.federation.loop import other_accuracies, sample_clients, weighted_accuracy
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


def test_other_models_are_weighted_over_the_clients_that_report_them() -> None:
    with_global = EvalReport(round=0, client_id=0, correct=9, total=10, other_correct={"global": 5})
    both = EvalReport(round=0, client_id=1, correct=10, total=30, other_correct={"global": 15, "finetuned": 27})
    # global: (5 + 15) / (10 + 30); finetuned: only client 1 reports it, 27 / 30; client 2 reports neither
    assert other_accuracies([with_global, both, report(2, 1, 60)]) == {"finetuned": 0.9, "global": 0.5}
    assert other_accuracies([report(0, 1, 2)]) == {}
