import pytest
import torch

from fedloom.algorithms.fedper.math import split_base_head


def test_split_into_shared_base_and_personal_head() -> None:
    w = {"base.fc1.weight": torch.ones(2), "head.weight": torch.zeros(1), "head.bias": torch.zeros(1)}
    base, head = split_base_head(w)
    assert list(base) == ["base.fc1.weight"] and sorted(head) == ["head.bias", "head.weight"]
    assert base["base.fc1.weight"] is w["base.fc1.weight"]
    with pytest.raises(ValueError, match="neither"):
        split_base_head({"shared.x": torch.ones(1)})
