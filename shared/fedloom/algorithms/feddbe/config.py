from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedDBEConfig(AlgorithmConfig):
    """FedDBE options, PFLlib's defaults (pfl_algorithms.md 11): with kl_weight = 0 the mean regularisation is
    off and FedDBE is FedAvg plus a per-client representation bias. The authors' scripts use momentum 1 and
    kl_weight 50 (fmnist)."""

    momentum: float = Field(0.1, gt=0, le=1, description="m of the running-mean representation (-mo)")
    kl_weight: float = Field(0.0, ge=0, description="kappa of the mean regularisation (-klw; 0 switches it off)")
