"""FedCP: a conditional policy splits each feature between a personal head and a frozen global head; an MMD
term keeps the base near the global base (Zhang et al., KDD 2023; pfl_algorithms.md 9)."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.fedcp.client import FedCPClient
from fedloom.algorithms.fedcp.config import FedCPConfig
from fedloom.algorithms.fedcp.server import FedCPServer, check_fedcp_names, check_fedcp_upload

SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="fedcp",
        config_type=FedCPConfig,
        make_client=FedCPClient,
        check_update=check_fedcp_names,
        make_server=FedCPServer,
        description="feature split by a conditional policy between personal and global heads (Zhang et al., KDD 2023)",
        check_update_env=check_fedcp_upload,
        one_architecture=True,
    )
)
