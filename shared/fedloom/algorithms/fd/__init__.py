"""FD (FedDistill): clients share per-class mean logits and distil towards their global average."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.fd.client import FDClient
from fedloom.algorithms.fd.config import FDConfig
from fedloom.algorithms.fd.server import FDServer, check_class_logits

SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="fd",
    config_type=FDConfig,
    make_client=FDClient,
    check_update=check_class_logits,
    make_server=FDServer,
    description="federated distillation of class logits (Jeong et al., 2018), MSE form",
    local_privacy=True,
)
