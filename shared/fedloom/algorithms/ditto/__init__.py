"""Ditto: FedAvg's global model plus a personal model per client, pulled towards the global one."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.ditto.client import DittoClient
from fedloom.algorithms.ditto.config import DittoConfig
from fedloom.algorithms.ditto.server import DittoServer
from fedloom.algorithms.global_model import check_model_names, check_whole_model_upload

SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="ditto",
        config_type=DittoConfig,
        make_client=DittoClient,
        check_update=check_model_names,
        make_server=DittoServer,
        description="personal models regularised towards the FedAvg model (Li et al., ICML 2021)",
        check_update_env=check_whole_model_upload,
        one_architecture=True,
    )
)
