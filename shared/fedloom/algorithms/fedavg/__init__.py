"""FedAvg: every client trains the global model on its data; the server averages the models by samples."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.fedavg.client import FedAvgClient
from fedloom.algorithms.fedavg.config import FedAvgConfig
from fedloom.algorithms.fedavg.server import FedAvgServer
from fedloom.algorithms.global_model import check_model_names, check_whole_model_upload

SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="fedavg",
        config_type=FedAvgConfig,
        make_client=FedAvgClient,
        check_update=check_model_names,
        make_server=FedAvgServer,
        description="federated averaging of one global model (McMahan et al., 2017)",
        check_update_env=check_whole_model_upload,
        one_architecture=True,
    )
)
