"""FedMRL: a shared small model and each client's own model, fused by a local projection (Matryoshka heads)."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec, ServerEnv
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.fedmrl.client import FedMRLClient
from fedloom.algorithms.fedmrl.config import FedMRLConfig
from fedloom.algorithms.fedmrl.server import FedMRLServer
from fedloom.algorithms.shared_model import check_shared_names, check_shared_upload
from fedloom.wire import ClientUpdate


def check_small_model_upload(update: ClientUpdate, env: ServerEnv, config: FedMRLConfig) -> None:
    check_shared_upload(update, env, config.shared_feature_dim)


SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="fedmrl",
        config_type=FedMRLConfig,
        make_client=FedMRLClient,
        check_update=check_shared_names,
        make_server=FedMRLServer,
        description=(
            "heterogeneous Matryoshka representation learning with a shared small model (Yi et al., NeurIPS'24)"
        ),
        check_update_env=check_small_model_upload,
    )
)
