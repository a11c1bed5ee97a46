"""LG-FedAvg: clients keep their own bases and share one classifier head, averaged by train samples."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.lg.client import LGClient
from fedloom.algorithms.lg.config import LGConfig
from fedloom.algorithms.lg.server import LGServer
from fedloom.algorithms.shared_head import check_head_upload

SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="lg",
        config_type=LGConfig,
        make_client=LGClient,
        check_update=check_head_upload,
        make_server=LGServer,
        description="local bases, one averaged head (Liang et al., 2020)",
    )
)
