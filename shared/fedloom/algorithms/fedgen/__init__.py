"""FedGen: a server-trained feature generator regularises the shared head on every client."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.fedgen.client import FedGenClient
from fedloom.algorithms.fedgen.config import FedGenConfig
from fedloom.algorithms.fedgen.server import FedGenServer
from fedloom.algorithms.fedgen.wire import check_fedgen_upload

SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="fedgen",
    config_type=FedGenConfig,
    make_client=FedGenClient,
    check_update=check_fedgen_upload,
    make_server=FedGenServer,
    description="data-free knowledge distillation with a feature generator (Zhu et al., ICML'21)",
    privacy_refusal=(
        "it uploads per-class label counts and a head the server trains its generator on, not a plain average"
    ),
)
