"""FedDBE: FedAvg plus a personal representation bias per client and mean regularisation of the features."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.feddbe.client import FedDBEClient
from fedloom.algorithms.feddbe.config import FedDBEConfig
from fedloom.algorithms.feddbe.server import FedDBEServer, check_feddbe_names, check_feddbe_upload

SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="feddbe",
    config_type=FedDBEConfig,
    make_client=FedDBEClient,
    check_update=check_feddbe_names,
    make_server=FedDBEServer,
    description="per-client representation bias and mean regularisation on FedAvg (Zhang et al., NeurIPS 2023)",
    check_update_env=check_feddbe_upload,
    one_architecture=True,
    privacy_refusal=(
        "its first round uploads each client's mean feature, a per-client statistic no averaged-update mechanism covers"
    ),
)
