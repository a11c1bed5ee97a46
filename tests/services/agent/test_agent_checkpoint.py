import json
import stat
from pathlib import Path

import pytest
import torch
from agent_helpers import CLIENT_ID, DATA_SPEC, federation_config
from pydantic import SecretStr

from fedloom.algorithms.fedktl.math import etf_vectors
from fedloom.algorithms.training import shuffled_batches
from fedloom.wire import GlobalPayload, encode
from fedloom_agent import (
    CheckpointError,
    CheckpointStore,
    LocalData,
    Outgoing,
    Session,
    TaskRecord,
    load_client_data,
    open_session,
    parse_data_spec,
)
from fedloom_agent.credentials import Credentials, load_credentials, save_credentials

FID = "fed-ktl"
LATENT = 8


@pytest.fixture(scope="module")
def local() -> LocalData:
    return load_client_data(parse_data_spec(DATA_SPEC))


def fedktl_bootstrap() -> GlobalPayload:
    rng = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(LATENT, 32, generator=rng) / 6, torch.zeros(LATENT)
    tensors = {"etf": etf_vectors(10, rng), "proj_fc.weight": weight, "proj_fc.bias": bias}
    return GlobalPayload(round=0, tensors=tensors)


def fedktl_package(round_: int) -> GlobalPayload:
    rng = torch.Generator().manual_seed(round_)
    images = torch.rand(10, 1, 28, 28, generator=rng) * 2 - 1
    return GlobalPayload(round=round_, tensors={"images": images, "latents": torch.randn(10, LATENT, generator=rng)})


def joined_session(local: LocalData) -> Session:
    session = open_session(FID, federation_config("fedktl", {}), CLIENT_ID, local, "cnn4", torch.device("cpu"))
    session.algorithm.join(session.ctx, fedktl_bootstrap())
    return session


def fit(session: Session, round_: int) -> Outgoing:
    update = session.algorithm.fit(session.ctx, fedktl_package(round_))
    return Outgoing(FID, round_, "update", encode(update))


def test_restore_gives_the_same_model_fedktl_state_rng_and_next_update(tmp_path: Path, local: LocalData) -> None:
    trained = joined_session(local)
    outgoing = fit(trained, 0)
    CheckpointStore(tmp_path).commit(trained, TaskRecord(federation_id=FID, round=0, kind="fit"), outgoing)

    restored = joined_session(local)
    store = CheckpointStore(tmp_path)  # as a restarted agent: read back from disk
    store.restore(restored)
    a, b = trained.ctx, restored.ctx
    assert all(torch.equal(v, b.model.state_dict()[k]) for k, v in a.model.state_dict().items())
    assert all(torch.equal(v, b.state["proj_fc"].state_dict()[k]) for k, v in a.state["proj_fc"].state_dict().items())
    assert not torch.equal(a.state["proj_fc"].weight, fedktl_bootstrap().tensors["proj_fc.weight"])  # it trained
    assert torch.equal(a.state["etf"], b.state["etf"]) and torch.equal(a.rng.get_state(), b.rng.get_state())
    assert [t.tolist() for t in shuffled_batches(50, 10, a.rng)] == [
        t.tolist() for t in shuffled_batches(50, 10, b.rng)
    ]
    assert fit(trained, 1).body == fit(restored, 1).body


def test_completed_tasks_are_known_by_federation_round_and_kind(tmp_path: Path, local: LocalData) -> None:
    session = joined_session(local)
    store = CheckpointStore(tmp_path)
    store.commit(session, TaskRecord(federation_id=FID, round=1, kind="fit"), Outgoing(FID, 1, "update", b"u"))

    def done(fid: str, round_: int, kind: str) -> bool:
        return CheckpointStore(tmp_path).completed(TaskRecord(federation_id=fid, round=round_, kind=kind))  # type: ignore[arg-type]

    assert done(FID, 1, "fit") and done(FID, 0, "evaluate") and done(FID, 0, "fit")
    assert not done(FID, 1, "evaluate") and not done(FID, 2, "fit") and not done("other", 0, "fit")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["joined"] == [FID] and manifest["client_id"] == CLIENT_ID
    assert manifest["last_completed"] == {"federation_id": FID, "round": 1, "kind": "fit"}
    assert set(manifest["federations"][FID]["state"].items()) == {("etf", "tensor"), ("proj_fc", "module")}


def test_the_outbox_keeps_results_until_settled_and_old_files_are_removed(tmp_path: Path, local: LocalData) -> None:
    session = joined_session(local)
    store = CheckpointStore(tmp_path)
    first, second = Outgoing(FID, 0, "update", b"one"), Outgoing(FID, 0, "metrics", b'{"correct": 1}')
    store.commit(session, TaskRecord(federation_id=FID, round=0, kind="fit"), first)
    store.commit(session, TaskRecord(federation_id=FID, round=0, kind="evaluate"), second)
    assert CheckpointStore(tmp_path).outbox() == [first, second]
    store.settle(first)
    assert CheckpointStore(tmp_path).outbox() == [second]
    store.settle(second)
    assert CheckpointStore(tmp_path).outbox() == []
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".safetensors"]  # one snapshot, no results


def test_a_checkpoint_refuses_another_client_a_second_agent_and_unsaveable_state(
    tmp_path: Path, local: LocalData
) -> None:
    session = joined_session(local)
    store = CheckpointStore(tmp_path)
    store.commit(session, TaskRecord(federation_id=FID, round=0, kind="fit"), Outgoing(FID, 0, "update", b""))
    store.bind(CLIENT_ID)
    with pytest.raises(CheckpointError, match="checkpoint of client 1, not 7"):
        store.bind(7)
    with store.locked(), pytest.raises(CheckpointError, match="another agent"), CheckpointStore(tmp_path).locked():
        pass
    with CheckpointStore(tmp_path).locked():  # released again
        pass
    session.ctx.state["note"] = "text"
    with pytest.raises(CheckpointError, match="only tensors and Modules"):
        store.commit(session, TaskRecord(federation_id=FID, round=0, kind="evaluate"), Outgoing(FID, 0, "update", b""))


def test_a_checkpoint_of_another_model_is_not_loaded(tmp_path: Path, local: LocalData) -> None:
    session = joined_session(local)
    CheckpointStore(tmp_path).commit(session, TaskRecord(federation_id=FID, round=0, kind="fit"), fit(session, 0))
    other = open_session(FID, federation_config("fedktl", {}), CLIENT_ID, local, "resnet4", torch.device("cpu"))
    with pytest.raises(CheckpointError, match="checkpointed with model cnn4"):
        CheckpointStore(tmp_path).restore(other)


def test_credentials_are_private_and_round_trip(tmp_path: Path) -> None:
    credentials = Credentials(server_url="http://x", client_id=4, api_token=SecretStr("secret-token"))
    save_credentials(tmp_path, credentials)
    path = tmp_path / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_credentials(tmp_path) == credentials
    assert "secret-token" not in repr(load_credentials(tmp_path))
    assert load_credentials(tmp_path / "nothing") is None
