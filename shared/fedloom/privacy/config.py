"""Privacy settings of a federation: `privacy: {epsilon, delta, clip}` or `{noise_multiplier, clip}`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fedloom.privacy.accounting import epsilon_spent, noise_multiplier_for


class PrivacyConfig(BaseModel):
    """Local differential privacy of each client's uploads (per training sample, add/remove adjacency).

    With `epsilon`, the noise multiplier is calibrated so that `releases` uploads (default: the federation's
    rounds) spend exactly that budget, and a client refuses an upload that would spend more. With only
    `noise_multiplier`, the spent epsilon is reported and nothing is refused.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    clip: float = Field(gt=0, description="L2 bound C of each sample's contribution (feature or logit row)")
    epsilon: float | None = Field(None, gt=0, description="the budget of each client over the whole federation")
    delta: float = Field(1e-5, gt=0, lt=1, description="delta of the (epsilon, delta) guarantee")
    noise_multiplier: float | None = Field(None, gt=0, description="noise std / L2 sensitivity of one upload")
    releases: int | None = Field(None, ge=1, description="uploads per client the budget is planned for")

    @model_validator(mode="before")
    @classmethod
    def _calibrate(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("noise_multiplier") is not None:
            return data
        if data.get("epsilon") is None:
            raise ValueError("privacy needs epsilon (a budget) or noise_multiplier")
        if data.get("releases") is None:
            return data  # planned later, once the number of rounds is known (`planned`)
        epsilon, delta, releases = data["epsilon"], data.get("delta", 1e-5), data["releases"]
        if not all(isinstance(v, int | float) for v in (epsilon, delta, releases)):
            return data  # the fields' own validation says what is wrong
        if not (epsilon > 0 and 0 < delta < 1 and releases >= 1 and float(releases).is_integer()):
            return data
        noise = noise_multiplier_for(float(epsilon), float(delta), int(releases))
        return {**data, "noise_multiplier": noise}

    def planned(self, rounds: int) -> PrivacyConfig:
        """These settings with the noise fixed: calibrated over `rounds` uploads unless already set."""
        if self.noise_multiplier is not None:
            return self
        return PrivacyConfig.model_validate({**self.model_dump(), "releases": self.releases or rounds})

    def epsilon_after(self, releases: int) -> float:
        if self.noise_multiplier is None:
            raise ValueError("the noise multiplier is not planned yet: call planned(rounds)")
        return epsilon_spent(self.noise_multiplier, releases, self.delta)


def plan_privacy(settings: dict[str, Any], rounds: int) -> dict[str, Any]:
    """A raw settings mapping with `privacy.releases` defaulted to `rounds` (used by config validators)."""
    privacy = settings.get("privacy")
    if isinstance(privacy, dict) and privacy.get("releases") is None and privacy.get("noise_multiplier") is None:
        return {**settings, "privacy": {**privacy, "releases": rounds}}
    return settings
