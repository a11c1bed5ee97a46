"""GPFL: a conditional valve splits the base feature into a personalised one (own head) and a global one
(aligned with shared class embeddings); base, embeddings and valve are averaged (pfl_algorithms.md 10)."""

from typing import Any

from fedloom.algorithms.base import AlgorithmSpec
from fedloom.algorithms.central_privacy import with_central_privacy
from fedloom.algorithms.gpfl.client import GPFLClient
from fedloom.algorithms.gpfl.config import GPFLConfig
from fedloom.algorithms.gpfl.server import GPFLServer, check_gpfl_names, check_gpfl_upload

SPEC: AlgorithmSpec[Any] = with_central_privacy(
    AlgorithmSpec(
        name="gpfl",
        config_type=GPFLConfig,
        make_client=GPFLClient,
        check_update=check_gpfl_names,
        make_server=GPFLServer,
        description="global and personalised features through a conditional valve and class embeddings "
        "(Zhang et al., ICCV 2023)",
        check_update_env=check_gpfl_upload,
        one_architecture=True,
    )
)
