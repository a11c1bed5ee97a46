"""FedPer: the clients share (average) the base and keep their own head."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.fedper.client import FedPerClient
from fedloom.algorithms.fedper.config import FedPerConfig
from fedloom.algorithms.fedper.server import FedPerServer
from fedloom.algorithms.global_model import check_base_upload, check_model_names

SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="fedper",
        config_type=FedPerConfig,
        make_client=FedPerClient,
        check_update=check_model_names,
        make_server=FedPerServer,
        description="shared base, personal head (Arivazhagan et al., 2019)",
        check_update_env=check_base_upload,
        one_architecture=True,
    )
)
