"""Local: every client trains alone with cross-entropy; nothing is exchanged. The lower baseline."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.local.client import LocalClient
from fedloom.algorithms.local.config import LocalConfig
from fedloom.algorithms.local.server import LocalServer
from fedloom.algorithms.prototypes import check_no_tensors

SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="local",
    config_type=LocalConfig,
    make_client=LocalClient,
    check_update=check_no_tensors,
    make_server=LocalServer,
    description="no collaboration: cross-entropy on each client's own data",
    local_privacy=True,  # it uploads nothing: any privacy setting holds with epsilon 0
)
