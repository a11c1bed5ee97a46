from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedMRLConfig(AlgorithmConfig):
    """FedMRL options: the shared small model's feature dimension (HtFLlib -sfd, 128)."""

    shared_feature_dim: int = Field(128, ge=1, description="feature dim of the shared model; at most feature_dim")
