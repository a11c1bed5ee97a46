from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedGenConfig(AlgorithmConfig):
    """FedGen options (HtFLlib scripts, algorithms.md 1.1): noise 32, generator lr 0.1, hidden 512, 100 steps.

    The server draws `server_batch_size` labels per generator step (the clients' batch size if unset).
    """

    noise_dim: int = Field(32, ge=1)
    hidden_dim: int = Field(512, ge=1)
    generator_lr: float = Field(0.1, gt=0)
    server_epochs: int = Field(100, ge=0, description="generator steps per round")
    server_batch_size: int | None = Field(None, ge=2)
