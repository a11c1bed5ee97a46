"""FedKD: mentor and mentee learn by adaptive mutual distillation; mentees travel SVD-compressed and are averaged."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec, ServerEnv
from fedloom.algorithms.fedkd.client import FedKDClient
from fedloom.algorithms.fedkd.compression import expand
from fedloom.algorithms.fedkd.config import FedKDConfig
from fedloom.algorithms.fedkd.server import FedKDServer
from fedloom.algorithms.shared_model import check_shared_names, expected_shapes
from fedloom.wire import ClientUpdate


def check_mentee_upload(update: ClientUpdate, env: ServerEnv, config: FedKDConfig) -> None:
    expand(update.tensors, expected_shapes(env, env.feature_dim))


SPEC: AlgorithmSpec[Any] = AlgorithmSpec(
    name="fedkd",
    config_type=FedKDConfig,
    make_client=FedKDClient,
    check_update=check_shared_names,
    make_server=FedKDServer,
    description="adaptive mutual distillation with SVD-compressed mentees (Wu et al., Nat. Commun. 2022)",
    check_update_env=check_mentee_upload,
    privacy_refusal=(
        "it uploads SVD factors whose rank follows an energy threshold, so its update is not the "
        "published tensors that DP-FedAvg clips and noises"
    ),
)
