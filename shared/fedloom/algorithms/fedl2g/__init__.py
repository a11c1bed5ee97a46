"""FedL2G: learnable guiding vectors, trained on the server from the clients' meta-gradients."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.fedl2g.client import FedL2GClient
from fedloom.algorithms.fedl2g.config import FedL2GConfig
from fedloom.algorithms.fedl2g.server import FedL2GServer, check_guide_gradients

SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="fedl2g",
    config_type=FedL2GConfig,
    make_client=FedL2GClient,
    check_update=check_guide_gradients,
    make_server=FedL2GServer,
    description="learning to guide with meta-learned guiding vectors (HtFLlib's FedL2G, feat and logit)",
    privacy_refusal="it uploads guiding-vector gradients from a meta-learning step, which no DP mechanism here covers",
)
