import pytest
import torch
from agent_helpers import CLIENT_ID, DATA_SPEC, SEED, federation_config

from fedloom.errors import ConfigError
from fedloom.models import build_model, group_architectures
from fedloom.privacy.noise import NOISE_SEED
from fedloom.runtime import client_seed, model_seed
from fedloom.wire.control import TrainingConfig
from fedloom_agent import choose_architecture, load_client_data, open_session, parse_data_spec


def test_a_group_picks_the_member_of_the_data_index_like_the_simulator() -> None:
    hcnn8 = group_architectures("hcnn8")
    assert choose_architecture("hcnn8", 2) == hcnn8[2]
    assert choose_architecture("hcnn8", 11) == hcnn8[11 % 8]
    assert choose_architecture("cpu4", 5) == group_architectures("cpu4")[1]


def test_an_explicit_member_or_architecture_ignores_the_data_index() -> None:
    assert choose_architecture("hcnn8:3", 0) == group_architectures("hcnn8")[3]
    assert choose_architecture("cnn4", 7) == "cnn4"
    assert choose_architecture("resnet8", 7) == "resnet8"  # an architecture that is no group


BAD_MODELS = [("nonet", "unknown model"), ("hcnn8:x", "whole number"), ("hcnn8:-1", ">= 0"), ("nogroup:1", "unknown")]


@pytest.mark.parametrize(("text", "message"), BAD_MODELS)
def test_bad_models_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        choose_architecture(text, 0)


def test_the_session_model_and_generator_equal_the_simulators() -> None:
    local = load_client_data(parse_data_spec(DATA_SPEC))
    arch = choose_architecture("hcnn8", local.index)
    session = open_session("f", federation_config(), CLIENT_ID, local, arch, torch.device("cpu"))
    torch.manual_seed(model_seed(SEED, arch))
    expected = build_model(arch, (1, 28, 28), 10, 32)
    ours, theirs = session.ctx.model.state_dict(), expected.state_dict()
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert torch.equal(session.ctx.rng.get_state(), torch.Generator().manual_seed(client_seed(SEED, 1)).get_state())
    assert session.ctx.data.client_id == CLIENT_ID and session.ctx.settings.batch_size == 10


def test_a_federation_our_data_cannot_serve_is_refused() -> None:
    local = load_client_data(parse_data_spec(DATA_SPEC))
    wrong_shape = federation_config().model_copy(update={"input_shape": (3, 32, 32)})
    with pytest.raises(ConfigError, match="expects inputs"):
        open_session("f", wrong_shape, 1, local, "cnn4", torch.device("cpu"))
    too_few = federation_config().model_copy(update={"num_classes": 2})
    with pytest.raises(ConfigError, match="classes"):
        open_session("f", too_few, 1, local, "cnn4", torch.device("cpu"))


def test_a_private_session_draws_its_noise_from_a_secret_seed_unless_told_to_use_the_run_seed() -> None:
    local = load_client_data(parse_data_spec(DATA_SPEC))
    training = {"privacy": {"noise_multiplier": 1.0, "clip": 1.0}}
    private = federation_config().model_copy(update={"training": TrainingConfig.model_validate(training)})
    first = open_session("f", private, CLIENT_ID, local, "cnn4", torch.device("cpu"))
    second = open_session("f", private, CLIENT_ID, local, "cnn4", torch.device("cpu"))
    assert int(first.ctx.state[NOISE_SEED]) != int(second.ctx.state[NOISE_SEED])  # fresh from the OS, per session
    seeded = open_session("f", private, CLIENT_ID, local, "cnn4", torch.device("cpu"), secret_noise=False)
    plain = open_session("f", federation_config(), CLIENT_ID, local, "cnn4", torch.device("cpu"))
    assert NOISE_SEED not in seeded.ctx.state and NOISE_SEED not in plain.ctx.state
