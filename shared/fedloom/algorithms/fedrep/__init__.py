"""FedRep: a shared representation (the averaged base) learnt after each client has fitted its own head."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.fedrep.client import FedRepClient
from fedloom.algorithms.fedrep.config import FedRepConfig
from fedloom.algorithms.fedrep.server import FedRepServer
from fedloom.algorithms.global_model import check_base_upload, check_model_names

SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="fedrep",
        config_type=FedRepConfig,
        make_client=FedRepClient,
        check_update=check_model_names,
        make_server=FedRepServer,
        description="shared representation, personal head trained first (Collins et al., ICML 2021)",
        check_update_env=check_base_upload,
        one_architecture=True,
    )
)
