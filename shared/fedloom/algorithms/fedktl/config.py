from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedKTLConfig(AlgorithmConfig):
    """FedKTL options; defaults are the StyleGAN3 line of the HtFLlib scripts (algorithms.md 1.1, 1.11-1.12)."""

    mu: float = Field(50.0, ge=0, description="weight of the latent MSE on generated pairs (client)")
    lam: float = Field(0.1, ge=0, description="weight of the centroid MSE in the server's alignment")
    margin: float = Field(0.5, ge=0, description="ArcFace angular margin m")
    scale: float = Field(64.0, gt=0, description="ArcFace scale s")
    server_lr: float = Field(0.01, gt=0)
    server_batch_size: int = Field(100, ge=2)
    server_epochs: int = Field(100, ge=0)
    clip_norm: float = Field(100.0, gt=0)
