"""Privacy noise from a secret seed: fresh per release, different per client, unknown to anyone holding the
run's seed; from the run's seed only when asked (simulations, `FEDLOOM_PRIVACY_NOISE=seeded`)."""

import torch

from fedloom.algorithms import get_algorithm, make_config
from fedloom.algorithms.base import ServerEnv, TrainSettings
from fedloom.algorithms.central_privacy import noise_generator
from fedloom.privacy import PrivacyConfig, spend_release
from fedloom.privacy.noise import NOISE_SEED, keep_secret_seed, release_noise_generator


def draw(state: dict[str, object], seeded: torch.Generator) -> torch.Tensor:
    return torch.randn(8, generator=release_noise_generator(state, seeded))


def test_a_secret_seed_gives_noise_the_run_seed_cannot_reproduce_and_fresh_noise_per_release() -> None:
    privacy = PrivacyConfig(noise_multiplier=1.0, clip=1.0)
    run_seeded = torch.Generator().manual_seed(7)
    assert torch.equal(draw({}, torch.Generator().manual_seed(7)), draw({}, run_seeded))  # no secret: the run's RNG
    state: dict[str, object] = {}
    keep_secret_seed(state)
    secret = int(state[NOISE_SEED])  # type: ignore[call-overload]
    keep_secret_seed(state)
    assert int(state[NOISE_SEED]) == secret  # type: ignore[call-overload]  # kept, never replaced
    first = draw(state, torch.Generator().manual_seed(7))
    assert torch.equal(first, draw(state, torch.Generator().manual_seed(7)))  # same seed and count: same noise
    assert not torch.equal(first, draw({}, torch.Generator().manual_seed(7)))
    spend_release(state, privacy)
    assert not torch.equal(first, draw(state, torch.Generator().manual_seed(7)))  # next release: fresh noise
    other: dict[str, object] = {}
    keep_secret_seed(other)
    assert not torch.equal(first, draw(other, torch.Generator().manual_seed(7)))


def test_the_servers_central_noise_follows_its_secret_when_it_has_one() -> None:
    spec = get_algorithm("fedavg")
    privacy = PrivacyConfig(noise_multiplier=1.0, clip=1.0)
    env = ServerEnv(4, 512, TrainSettings(privacy=privacy), seed=3, input_shape=(1, 28, 28), reference_arch="cnn4")
    seeded, secret = spec.make_server(make_config(spec, {})), spec.make_server(make_config(spec, {}))
    seeded.init(env)
    secret.init(ServerEnv(**{**env.__dict__, "noise_secret": 123456789}))
    assert seeded.seed == 3 and secret.seed == 123456789
    assert not torch.equal(
        torch.randn(4, generator=noise_generator(3, 0)), torch.randn(4, generator=noise_generator(123456789, 0))
    )
