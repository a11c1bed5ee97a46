from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedGHConfig(AlgorithmConfig):
    """FedGH options (HtFLlib scripts, algorithms.md 1.1): server lr 0.01, one server epoch.

    The server trains its head in batches of the clients' batch size unless `server_batch_size` is given.
    """

    server_lr: float = Field(0.01, gt=0)
    server_epochs: int = Field(1, ge=0)
    server_batch_size: int | None = Field(None, ge=1)
