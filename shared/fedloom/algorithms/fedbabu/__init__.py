"""FedBABU: only the body is learnt and averaged; the head stays at its random start, fine-tuned at the end."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.fedbabu.client import FedBABUClient
from fedloom.algorithms.fedbabu.config import FedBABUConfig
from fedloom.algorithms.fedbabu.server import FedBABUServer
from fedloom.algorithms.global_model import check_base_upload, check_model_names

SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="fedbabu",
        config_type=FedBABUConfig,
        make_client=FedBABUClient,
        check_update=check_model_names,
        make_server=FedBABUServer,
        description="body learnt and averaged, fixed head fine-tuned after training (Oh et al., ICLR 2022)",
        check_update_env=check_base_upload,
        one_architecture=True,
    )
)
