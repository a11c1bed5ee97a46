"""(epsilon, delta) of repeated Gaussian releases, by dp-accounting's RDP accountant.

Each release of a client is one Gaussian mechanism with noise multiplier z (noise std / L2 sensitivity) on
that client's data; a client that uploaded r times has composed r of them. Clients are not sub-sampled
from the client's own point of view (its data are all used in every upload), so no amplification by
sampling is claimed.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from fedloom.errors import ConfigError

MAX_NOISE = 1e4


def _library() -> Any:
    try:
        import dp_accounting
    except ImportError as exc:  # the optional extra
        raise ConfigError("privacy settings need dp-accounting: pip install 'fedloom[privacy]'") from exc
    return dp_accounting


def _event(noise_multiplier: float, releases: int) -> Any:
    dp = _library()
    return dp.SelfComposedDpEvent(dp.GaussianDpEvent(noise_multiplier), releases)


@functools.lru_cache(maxsize=4096)
def epsilon_spent(noise_multiplier: float, releases: int, delta: float) -> float:
    """epsilon after `releases` Gaussian releases with `noise_multiplier` at `delta` (0 for no release)."""
    if releases <= 0:
        return 0.0
    accountant = _library().rdp.RdpAccountant()
    accountant.compose(_event(noise_multiplier, releases))
    epsilon = float(accountant.get_epsilon(delta))
    return epsilon if math.isfinite(epsilon) else math.inf


@functools.lru_cache(maxsize=256)
def noise_multiplier_for(epsilon: float, delta: float, releases: int) -> float:
    """The smallest noise multiplier whose `releases` releases spend at most `epsilon` at `delta`."""
    dp = _library()
    try:
        z = dp.calibrate_dp_mechanism(
            dp.rdp.RdpAccountant,
            lambda noise: _event(noise, releases),
            epsilon,
            delta,
            dp.LowerEndpointAndGuess(1e-3, 1.0),
        )
    except Exception as exc:  # the library's bracket search gives up
        raise ConfigError(f"no noise level reaches epsilon {epsilon} at delta {delta} over {releases} uploads") from exc
    if not z < MAX_NOISE:
        raise ConfigError(f"epsilon {epsilon} over {releases} uploads needs noise multiplier {z:.3g}: budget too small")
    return float(z)
