"""Calibration and accounting through dp-accounting, and a client's ledger."""

import pytest
import torch
from pydantic import ValidationError

from fedloom.errors import ConfigError
from fedloom.privacy import PrivacyBudgetExceeded, PrivacyConfig, epsilon_spent, noise_multiplier_for, spend_release
from fedloom.privacy.ledger import RELEASES
from fedloom.simulation import load_config


@pytest.mark.parametrize("epsilon", [1.0, 4.0, 8.0])
def test_calibrated_noise_spends_the_budget_over_the_planned_uploads(epsilon: float) -> None:
    z = noise_multiplier_for(epsilon, 1e-5, 50)
    assert epsilon_spent(z, 50, 1e-5) == pytest.approx(epsilon, rel=1e-3)
    assert epsilon_spent(z * 1.01, 50, 1e-5) < epsilon < epsilon_spent(z * 0.99, 50, 1e-5)
    assert epsilon_spent(z, 25, 1e-5) < epsilon  # fewer uploads spend less


def test_a_single_gaussian_release_matches_the_classic_bound_order() -> None:
    # the classic analytic bound z = sqrt(2 ln(1.25 / delta)) / epsilon holds for epsilon < 1; RDP is tighter
    classic = (2 * torch.log(torch.tensor(1.25 / 1e-5))).sqrt().item() / 0.5
    assert noise_multiplier_for(0.5, 1e-5, 1) < classic


def test_settings_need_a_budget_or_a_noise_level() -> None:
    with pytest.raises(ValueError, match="epsilon .* or noise_multiplier"):
        PrivacyConfig.model_validate({"clip": 1.0})
    planned = PrivacyConfig(epsilon=8, clip=1).planned(50)
    assert planned.releases == 50 and planned.noise_multiplier == pytest.approx(noise_multiplier_for(8, 1e-5, 50))
    fixed = PrivacyConfig(noise_multiplier=1.1, clip=1).planned(50)
    assert fixed.noise_multiplier == 1.1 and fixed.epsilon is None
    with pytest.raises(ValueError, match="budget too small"):
        PrivacyConfig(epsilon=1e-6, clip=1).planned(1000)
    with pytest.raises(ConfigError, match="privacy: Value error, epsilon 1e-06 over 1000 uploads"):
        load_config(None, {"algorithm": "fedtgp", "rounds": 1000, "privacy": {"epsilon": 1e-6, "clip": 1}})
    simulated = load_config(None, {"algorithm": "fedtgp", "rounds": 7, "privacy": {"epsilon": 1, "clip": 1}})
    assert simulated.privacy is not None and simulated.privacy.releases == 7  # planned over the run's rounds


@pytest.mark.parametrize("bad", [{"epsilon": [1]}, {"epsilon": "x"}, {"epsilon": -1.0}, {"epsilon": 1.0, "delta": 2.0}])
def test_malformed_budgets_are_validation_errors_not_crashes(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):  # a 422 in the services (the API fuzz test once found a 500 here)
        PrivacyConfig.model_validate({"clip": 1.0, "releases": 3, **bad})


def test_the_ledger_refuses_the_upload_that_would_exceed_the_budget() -> None:
    privacy = PrivacyConfig(epsilon=2.0, clip=1.0).planned(3)
    state: dict[str, object] = {}
    spent = [spend_release(state, privacy) for _ in range(3)]
    assert spent == sorted(spent) and spent[-1] == pytest.approx(2.0, rel=1e-3)
    with pytest.raises(PrivacyBudgetExceeded, match="upload 4 would spend epsilon .* over this client's budget of 2"):
        spend_release(state, privacy)
    assert int(state[RELEASES]) == 3  # the refused upload spent nothing
    unlimited = PrivacyConfig(noise_multiplier=1.0, clip=1.0)
    assert spend_release({}, unlimited) == pytest.approx(epsilon_spent(1.0, 1, 1e-5))
