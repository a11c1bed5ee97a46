from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedALAConfig(AlgorithmConfig):
    """FedALA options with PFLlib's defaults (pfl_algorithms.md 8; the authors' scripts use the same three)."""

    eta: float = Field(1.0, gt=0, description="learning rate of the aggregation weights W (-et)")
    rand_percent: int = Field(80, ge=1, le=100, description="percent of the training split ALA reads (-s)")
    layer_idx: int = Field(
        2,
        ge=1,
        description="the last this many parameter tensors are mixed element-wise; the rest take the "
        "global values (-p; 2 = the head's weight and bias, which is about the paper's p = 1)",
    )
    threshold: float = Field(
        0.1,
        gt=0,
        description="the start phase ends when the std of the last num_pre_loss losses is below this "
        "(the code's default; the authors' README says the paper used 0.01)",
    )
    num_pre_loss: int = Field(10, ge=2, description="losses the start phase's convergence test looks at")
    max_passes: int = Field(
        1000, ge=1, description="cap on the start phase's passes (PFLlib has none and can loop for ever)"
    )
