"""Server half of FedMRL: the shared small model (feature dim `shared_feature_dim`), averaged without weights."""

from __future__ import annotations

from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedmrl.config import FedMRLConfig
from fedloom.algorithms.shared_model import SharedModelServer, SharedModelState
from fedloom.errors import ConfigError


class FedMRLServer(SharedModelServer):
    def __init__(self, config: FedMRLConfig) -> None:
        self.config = config

    def shared_feature_dim(self, env: ServerEnv) -> int:
        return self.config.shared_feature_dim

    def init(self, env: ServerEnv) -> SharedModelState:
        if self.config.shared_feature_dim > env.feature_dim:
            raise ConfigError(
                f"FedMRL's shared_feature_dim {self.config.shared_feature_dim} must not exceed feature_dim "
                f"{env.feature_dim}: the shared head reads that many dims of the fused representation"
            )
        return super().init(env)
