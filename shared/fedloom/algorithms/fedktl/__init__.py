"""FedKTL: a server-side pre-trained generator turns aggregated prototypes into images that carry
shared knowledge back to clients (Zhang et al., CVPR'24)."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.fedktl.client import FedKTLClient
from fedloom.algorithms.fedktl.config import FedKTLConfig
from fedloom.algorithms.fedktl.server import FedKTLServer
from fedloom.algorithms.prototypes import check_etf_prototypes

SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="fedktl",
    config_type=FedKTLConfig,
    make_client=FedKTLClient,
    check_update=check_etf_prototypes,
    make_server=FedKTLServer,
    needs_generator=True,
    description="knowledge transfer through prototype-induced images (Zhang et al., CVPR'24)",
    local_privacy=True,
)
