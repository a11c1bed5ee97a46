"""Local: every client trains alone with cross-entropy; nothing is exchanged. The lower baseline."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.local.client import LocalClient
from fedloom.algorithms.local.config import LocalConfig
from fedloom.algorithms.local.server import LocalServer

SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="local",
    config_type=LocalConfig,
    make_client=LocalClient,
    make_server=LocalServer,
    description="no collaboration: cross-entropy on each client's own data",
)
