"""FML: each client trains its own model and a shared meme model by deep mutual learning; memes are averaged."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec, ServerEnv
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.fml.client import FMLClient
from fedloom.algorithms.fml.config import FMLConfig
from fedloom.algorithms.fml.server import FMLServer
from fedloom.algorithms.shared_model import check_shared_names, check_shared_upload
from fedloom.wire import ClientUpdate


def check_meme_upload(update: ClientUpdate, env: ServerEnv, config: FMLConfig) -> None:
    check_shared_upload(update, env, env.feature_dim)


SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="fml",
        config_type=FMLConfig,
        make_client=FMLClient,
        check_update=check_shared_names,
        make_server=FMLServer,
        description="federated mutual learning with a shared meme model (Shen et al., 2020)",
        check_update_env=check_meme_upload,
    )
)
