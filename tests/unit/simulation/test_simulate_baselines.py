"""The HtFL baselines FD, LG-FedAvg, FedGH, FedGen and FedL2G through `fedloom simulate`: two synthetic rounds."""

import json

import pytest

from fedloom.simulation import SimulationConfig, run_simulation

# FedL2G only trains client models after its warm-up (50 rounds by default): one warm-up round here
ALGORITHMS = {
    "fd": {},
    "lg": {},
    "fedgh": {},
    "fedgen": {},
    "fedl2g": {"warmup_rounds": 1},
    "fedl2g-logit": {"warmup_rounds": 1, "variant": "logit"},
}


@pytest.mark.parametrize("case", sorted(ALGORITHMS))
def test_two_rounds_learn_and_repeat_exactly_under_one_seed(case: str, small_config: SimulationConfig) -> None:
    update = {"algorithm": case.split("-")[0], "options": ALGORITHMS[case], "dataset_options": {"samples": 800}}
    cfg = small_config.model_copy(update=update)
    first = run_simulation(cfg, progress=False)
    assert cfg.out is not None
    rows = [json.loads(line) for line in (cfg.out / "metrics.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rows] == [0, 1]
    assert all(r["upload_bytes"] > 0 and r["download_bytes"] > 0 for r in rows)
    assert first.history[-1].accuracy > 0.3  # the synthetic classes are learnable in two rounds
    second = run_simulation(cfg.model_copy(update={"out": None}), progress=False)
    assert [m.accuracy for m in first.history] == [m.accuracy for m in second.history]
    assert [m.train_loss for m in first.history] == [m.train_loss for m in second.history]
    assert first.final_payload.tensors.keys() == second.final_payload.tensors.keys()
    assert all(t.equal(second.final_payload.tensors[k]) for k, t in first.final_payload.tensors.items())
