"""FedGH: a global head trained on the server from the clients' class prototypes."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.fedgh.client import FedGHClient
from fedloom.algorithms.fedgh.config import FedGHConfig
from fedloom.algorithms.fedgh.server import FedGHServer
from fedloom.algorithms.prototypes import check_feature_prototypes

SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="fedgh",
    config_type=FedGHConfig,
    make_client=FedGHClient,
    check_update=check_feature_prototypes,
    make_server=FedGHServer,
    description="global head trained on prototypes (Yi et al., ACM MM'23)",
    local_privacy=True,
)
