from pydantic import Field

from fedloom.algorithms.base import AlgorithmConfig


class FedTGPConfig(AlgorithmConfig):
    """FedTGP options (HtFLlib scripts): lam 10, 100 server epochs, margin threshold tau 100.

    The server trains with SGD at the clients' lr and batch size unless `server_lr` /
    `server_batch_size` are given, as the released code does.
    """

    lam: float = Field(10.0, ge=0)
    server_epochs: int = Field(100, ge=0)
    margin_threshold: float = Field(100.0, ge=0)
    server_lr: float | None = Field(None, gt=0)
    server_batch_size: int | None = Field(None, ge=1)
