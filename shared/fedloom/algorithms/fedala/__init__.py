"""FedALA: FedAvg whose clients mix each global model into their own with learned element-wise weights."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.fedala.client import FedALAClient
from fedloom.algorithms.fedala.config import FedALAConfig
from fedloom.algorithms.fedala.server import FedALAServer
from fedloom.algorithms.global_model import check_model_names, check_whole_model_upload

SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="fedala",
        config_type=FedALAConfig,
        make_client=FedALAClient,
        check_update=check_model_names,
        make_server=FedALAServer,
        description="adaptive local aggregation of the FedAvg model (Zhang et al., AAAI 2023)",
        check_update_env=check_whole_model_upload,
        one_architecture=True,
    )
)
