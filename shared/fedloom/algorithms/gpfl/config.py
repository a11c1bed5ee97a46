from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class GPFLConfig(AlgorithmConfig):
    """GPFL options with PFLlib's defaults (pfl_algorithms.md 10). The GPFL authors use lam = 0.01 and mu = 0.1
    for the 4-layer CNN (PFLlib's default lam is 100 times that); local epochs, batch and lr are run settings."""

    lam: float = Field(
        1.0,
        ge=0,
        description="weight of the alignment term lam * ||f_G - GCE_frozen[y]||_F (-lam; PFLlib's default 1.0, "
        "the authors' value for this CNN 0.01)",
    )
    mu: float = Field(
        0.0,
        ge=0,
        description="weight decay of the GCE's and the CoV's SGD (-mu; PFLlib's default 0.0, the authors' value "
        "for this CNN 0.1)",
    )
