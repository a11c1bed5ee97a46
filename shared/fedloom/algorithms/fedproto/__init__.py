"""FedProto: clients regularise features towards averaged class prototypes; inference by nearest one."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.fedproto.client import FedProtoClient
from fedloom.algorithms.fedproto.config import FedProtoConfig
from fedloom.algorithms.fedproto.server import FedProtoServer
from fedloom.algorithms.prototypes import check_feature_prototypes

SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="fedproto",
    config_type=FedProtoConfig,
    make_client=FedProtoClient,
    check_update=check_feature_prototypes,
    make_server=FedProtoServer,
    description="prototype averaging (Tan et al., AAAI'22)",
    local_privacy=True,
)
