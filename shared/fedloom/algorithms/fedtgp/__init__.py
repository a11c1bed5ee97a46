"""FedTGP: trainable global prototypes learned on the server with an adaptive-margin contrastive loss."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.fedtgp.client import FedTGPClient
from fedloom.algorithms.fedtgp.config import FedTGPConfig
from fedloom.algorithms.fedtgp.server import FedTGPServer
from fedloom.algorithms.prototypes import check_feature_prototypes

SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="fedtgp",
    config_type=FedTGPConfig,
    make_client=FedTGPClient,
    check_update=check_feature_prototypes,
    make_server=FedTGPServer,
    description="trainable global prototypes (Zhang et al., AAAI'24)",
    local_privacy=True,
)
