"""How operators see privacy: the federation row's text and the epsilon column of the rounds table."""

from fedloom.ops.formatting import federation_row
from fedloom.ops.report import table
from fedloom.wire.control import FederationConfig, FederationState, RoundSummary


def state(privacy: dict[str, float] | None) -> FederationState:
    training = {} if privacy is None else {"privacy": privacy}
    config = FederationConfig.model_validate(
        {"algorithm": "fedtgp", "num_classes": 10, "rounds": 4, "training": training}
    )
    rounds = [
        RoundSummary(round=i, phase="published", accuracy=0.5, epsilon_max=None if privacy is None else 1.5 * (i + 1))
        for i in range(2)
    ]
    return FederationState(
        federation_id="f", status="running", config=config, current_round=2, clients=[], rounds=rounds
    )


def test_privacy_off_shows_off_and_no_epsilon_column() -> None:
    plain = state(None)
    assert federation_row(plain).privacy == "off"
    assert "epsilon" not in table(plain)


def test_privacy_on_shows_the_spent_epsilon_against_the_budget() -> None:
    private = state({"epsilon": 8.0, "clip": 1.0})
    assert private.config.training.privacy is not None and private.config.training.privacy.releases == 4
    text = federation_row(private).privacy
    assert text.startswith("ε 3.00 of 8 (δ 1e-05, noise ×") and text.endswith(")")
    lines = table(private).splitlines()
    assert "epsilon" in lines[0] and "  1.500  " in lines[2] and "  3.000  " in lines[3]
