"""Differential privacy for what clients upload: settings, the Gaussian mechanism on per-class sums, and
accounting through Google's dp-accounting library (never a hand-written accountant)."""

from fedloom.privacy.accounting import epsilon_spent, noise_multiplier_for
from fedloom.privacy.config import PrivacyConfig
from fedloom.privacy.ledger import PrivacyBudgetExceeded, next_release_epsilon, spend_release

__all__ = [
    "PrivacyBudgetExceeded",
    "PrivacyConfig",
    "epsilon_spent",
    "next_release_epsilon",
    "noise_multiplier_for",
    "spend_release",
]
