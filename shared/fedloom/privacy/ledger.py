"""A client's own privacy ledger: how many uploads it released, and the budget check before the next one.

It lives in ctx.state as a tensor (`privacy.releases`), so the agent's checkpoint keeps it: a client that
crashes and resumes does not forget what it spent.
"""

from __future__ import annotations

from typing import Any

import torch

from fedloom.errors import ConfigError
from fedloom.privacy.config import PrivacyConfig

RELEASES = "privacy.releases"
EPSILON = "epsilon"  # the value of an upload that says what its client has spent so far
SLACK = 1e-9


class PrivacyBudgetExceeded(ConfigError):
    """The next upload would spend more than the client's epsilon budget."""


def releases_of(state: dict[str, Any]) -> int:
    return int(state[RELEASES]) if RELEASES in state else 0


def next_release_epsilon(state: dict[str, Any], privacy: PrivacyConfig) -> float:
    """The epsilon the client will have spent after one more upload; PrivacyBudgetExceeded when that is over
    `privacy.epsilon`. Records nothing."""
    releases = releases_of(state) + 1
    spent = privacy.epsilon_after(releases)
    if privacy.epsilon is not None and spent > privacy.epsilon * (1 + SLACK):
        raise PrivacyBudgetExceeded(
            f"upload {releases} would spend epsilon {spent:.3f} at delta {privacy.delta:g}, over this client's "
            f"budget of {privacy.epsilon:g} (planned for {privacy.releases} uploads): the client sits this round out"
        )
    return spent


def spend_release(state: dict[str, Any], privacy: PrivacyConfig) -> float:
    """Record one more upload and return the epsilon spent with it (PrivacyBudgetExceeded, nothing recorded,
    when that would exceed the budget)."""
    spent = next_release_epsilon(state, privacy)
    state[RELEASES] = torch.tensor(releases_of(state) + 1)
    return spent
