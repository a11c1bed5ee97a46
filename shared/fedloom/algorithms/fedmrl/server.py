"""Server half of FedMRL: the shared small model (feature dim `shared_feature_dim`), averaged without weights."""

from __future__ import annotations

from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedmrl.config import FedMRLConfig
from fedloom.algorithms.shared_model import SharedModelServer


class FedMRLServer(SharedModelServer):
    def __init__(self, config: FedMRLConfig) -> None:
        self.config = config

    def shared_feature_dim(self, env: ServerEnv) -> int:
        return self.config.shared_feature_dim
