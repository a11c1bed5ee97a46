"""Where privacy noise comes from: a seed nobody else knows, or the run's seed for reproducible research.

A client's training RNG is seeded from the federation's seed, which the server and every client know; noise
drawn from it could be regenerated and subtracted by any of them, which would void the guarantee. So a
deployed client draws its noise from a secret seed of its own, made at random when it joins and kept only in
its checkpoint (`NOISE_SEED` in ctx.state), combined with its release count so that every release gets fresh
noise. Simulations, and services run with `FEDLOOM_PRIVACY_NOISE=seeded`, use the seeded RNG instead, so that
runs repeat exactly (the services then equal the simulation). The same holds for the server's central-DP noise
(`ServerEnv.noise_secret`). Secrets come from the operating system (`secrets`); the generator they seed is
torch's (Philox/Mersenne Twister), not a cryptographic one.
"""

from __future__ import annotations

import secrets
from typing import Any

import torch

from fedloom.privacy.ledger import releases_of

NOISE_SEED = "privacy.noise_seed"
SEED_BITS = 62


def secret_seed() -> int:
    """A fresh seed from the operating system's random source."""
    return secrets.randbits(SEED_BITS)


def keep_secret_seed(state: dict[str, Any]) -> None:
    """Give a client a secret noise seed (ctx.state, so its checkpoint keeps it) unless it has one."""
    if NOISE_SEED not in state:
        state[NOISE_SEED] = torch.tensor(secret_seed(), dtype=torch.int64)


def release_noise_generator(state: dict[str, Any], seeded: torch.Generator) -> torch.Generator:
    """The generator for a client's next release: from its secret seed and release count when it holds a secret
    seed, else `seeded` (its run-seeded RNG)."""
    if NOISE_SEED not in state:
        return seeded
    return torch.Generator().manual_seed((int(state[NOISE_SEED]) + releases_of(state)) % 2**SEED_BITS)
