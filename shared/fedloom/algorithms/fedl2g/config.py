from typing import Literal

from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedL2GConfig(AlgorithmConfig):
    """FedL2G options; defaults are HtFLlib's `main.py` ones (algorithms.md 1.1, 1.14).

    `variant` "feat" guides the K-dim features, "logit" the C-dim logits. During the first
    `warmup_rounds` rounds clients only run the meta step that trains the guiding vectors.
    """

    variant: Literal["feat", "logit"] = "feat"
    server_lr: float = Field(0.01, gt=0)
    warmup_rounds: int = Field(50, ge=0)
    study_batches: int = Field(1, ge=1, description="mdb: batches of the differentiable study step")
    quiz_batches: int = Field(1, ge=1, description="mqb: held-out quiz batches (their samples never train)")
    clip_norm: float = Field(100.0, gt=0)
