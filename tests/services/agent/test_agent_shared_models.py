"""An agent that restarts mid-federation resumes FML, FedKD and FedMRL exactly: the shared model (with its
own BatchNorm buffers), FedKD's W_h and FedMRL's projection are part of the checkpoint."""

from pathlib import Path

import pytest
import torch
from agent_helpers import CLIENT_ID, DATA_SPEC, federation_config

from fedloom.algorithms import get_algorithm, make_config
from fedloom.wire import ClientUpdate, GlobalPayload, decode, encode
from fedloom_agent import (
    CheckpointStore,
    LocalData,
    Outgoing,
    Session,
    TaskRecord,
    load_client_data,
    open_session,
    parse_data_spec,
)
from fedloom_aggregator.envs import federation_env

FID = "fed-shared"
OPTIONS = {"fedmrl": {"shared_feature_dim": 16}}  # at most the clients' feature_dim (32 here)


@pytest.fixture(scope="module")
def local() -> LocalData:
    return load_client_data(parse_data_spec(DATA_SPEC))


def joined(algorithm: str, local: LocalData, bootstrap: GlobalPayload) -> Session:
    config = federation_config(algorithm, OPTIONS.get(algorithm, {}))
    session = open_session(FID, config, CLIENT_ID, local, "cnn4", torch.device("cpu"))
    session.algorithm.join(session.ctx, decode(encode(bootstrap), GlobalPayload))
    return session


def fit(session: Session, payload: GlobalPayload) -> Outgoing:
    update = session.algorithm.fit(session.ctx, decode(encode(payload), GlobalPayload))
    return Outgoing(FID, payload.round, "update", encode(update))


@pytest.mark.parametrize(("algorithm", "local_state"), [("fml", []), ("fedkd", ["w_h"]), ("fedmrl", ["proj"])])
def test_restore_resumes_shared_model_algorithms_bit_for_bit(
    tmp_path: Path, local: LocalData, algorithm: str, local_state: list[str]
) -> None:
    config = federation_config(algorithm, OPTIONS.get(algorithm, {}))
    spec = get_algorithm(algorithm)
    server = spec.make_server(make_config(spec, config.options))
    state = server.init(federation_env(config, "cnn_c1"))  # another architecture than the client's own
    bootstrap, first = server.bootstrap(state), server.broadcast(state)

    trained = joined(algorithm, local, bootstrap)
    outgoing = fit(trained, first)
    CheckpointStore(tmp_path).commit(trained, TaskRecord(federation_id=FID, round=0, kind="fit"), outgoing)
    second = server.broadcast(server.aggregate(state, [decode(outgoing.body, ClientUpdate)]))

    restored = joined(algorithm, local, bootstrap)
    CheckpointStore(tmp_path).restore(restored)
    assert set(local_state) | {"shared"} == set(restored.ctx.state)
    for name in local_state:
        torch.testing.assert_close(trained.ctx.state[name].weight, restored.ctx.state[name].weight, rtol=0, atol=0)
    assert fit(trained, second).body == fit(restored, second).body
