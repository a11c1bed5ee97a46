from typing import Literal

from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedBABUConfig(AlgorithmConfig):
    """FedBABU options, PFLlib's defaults (pfl_algorithms.md 6)."""

    fine_tuning_epochs: int = Field(
        10, ge=0, description="epochs of base + head fine-tuning after the last round (-fte); 0: none"
    )
    finetune_from: Literal["local", "global"] = Field(
        "local",
        description="what the final fine-tuning starts from: 'local', the client's base as it trained it in the "
        "last round (PFLlib's code, for parity), or 'global', the last averaged base (the paper)",
    )
