"""Server half of FD: FedProto's server in logit space, i.e. per class the unweighted mean over clients
of their mean logits (rows of width C instead of K); count-weighted for private uploads."""

from __future__ import annotations

from fedloom.algorithms import prototypes as wire_rows
from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fd.config import FDConfig
from fedloom.algorithms.fedproto.config import FedProtoConfig
from fedloom.algorithms.fedproto.server import FedProtoServer, FedProtoState
from fedloom.wire import ClientUpdate


def check_class_logits(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """An upload of per-class mean logits: `classes` [n] and rows [n, C] in the prototype layout."""
    wire_rows.unpack(update.tensors, num_classes, num_classes)


class FDServer(FedProtoServer):
    def __init__(self, config: FDConfig) -> None:
        super().__init__(FedProtoConfig(lam=config.lam))
        self.fd_config = config

    def init(self, env: ServerEnv) -> FedProtoState:
        return FedProtoState(round=0, num_classes=env.num_classes, feature_dim=env.num_classes)
