"""Central differential privacy (DP-FedAvg) for the plug-ins that average model tensors, as a wrapper around
both halves of one (`with_central_privacy`); without `privacy` settings both wrappers pass everything through.

Client: after the plug-in's own `fit`, the upload becomes the received tensors plus the clipped update
(`fedloom.privacy.central`), the training loss is not sent, `num_samples` is 1 (the server averages without
weights, as sample counts are private too), and the client's ledger records the release and its epsilon (a
client never releases more rounds than its budget allows: `PrivacyBudgetExceeded` before training).
Server: the clipped updates are summed, Gaussian noise with std z C is added to the sum, and the plug-in's
own `aggregate` receives the single noisy mean as its only upload. The noise is drawn from the server's secret
(`ServerEnv.noise_secret`, the services' default) or the federation's seed (simulations), mixed with the round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch

from fedloom.algorithms.base import AlgorithmSpec, ClientAlgorithm, ClientContext, ServerAlgorithm, ServerEnv
from fedloom.algorithms.model_parts import all_finite
from fedloom.privacy.central import clipped_upload, noisy_mean
from fedloom.privacy.config import PrivacyConfig
from fedloom.privacy.ledger import EPSILON, next_release_epsilon, spend_release
from fedloom.wire import ClientUpdate, GlobalPayload

log = logging.getLogger(__name__)
NOISE_STREAM = 0x5EED_D9  # mixes the round into the federation's seed for the server's noise


class Transparent:
    """Anything the wrapper does not define is the wrapped plug-in's: `join`, `evaluate`, `bootstrap`,
    `broadcast`, its options and its own helpers."""

    inner: Any

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (copying, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)


class CentralPrivacyClient(Transparent):
    def __init__(self, inner: ClientAlgorithm) -> None:
        self.inner = inner

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        privacy = ctx.settings.privacy
        if privacy is None:
            return self.inner.fit(ctx, payload)
        next_release_epsilon(ctx.state, privacy)  # PrivacyBudgetExceeded before any training
        update = self.inner.fit(ctx, payload)
        if not all(all_finite(t) for t in update.tensors.values()):
            log.warning(
                "client %d: local training diverged under the noisy global model; it sends a zero update", ctx.client_id
            )
        tensors = clipped_upload(update.tensors, payload.tensors, privacy.clip)
        epsilon = spend_release(ctx.state, privacy)
        return replace_update(update, tensors, {EPSILON: epsilon})


def replace_update(update: ClientUpdate, tensors: dict[str, torch.Tensor], values: dict[str, float]) -> ClientUpdate:
    return ClientUpdate(round=update.round, client_id=update.client_id, num_samples=1, tensors=tensors, values=values)


def noise_generator(seed: int, round_: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + round_) ^ NOISE_STREAM)


class CentralPrivacyServer(Transparent):
    """The plug-in's server half; `init` notes the federation's privacy settings and noise seed (its configuration)."""

    def __init__(self, inner: ServerAlgorithm[Any]) -> None:
        self.inner = inner
        self.privacy: PrivacyConfig | None = None
        self.seed = 0

    def init(self, env: ServerEnv) -> Any:
        self.privacy = env.settings.privacy
        self.seed = env.seed if env.noise_secret is None else env.noise_secret
        return self.inner.init(env)

    def aggregate(self, state: Any, updates: Sequence[ClientUpdate]) -> Any:
        privacy = self.privacy
        if privacy is None or not updates:
            return self.inner.aggregate(state, updates)
        assert privacy.noise_multiplier is not None  # planned settings only reach servers
        published = self.inner.broadcast(state)
        rng = noise_generator(self.seed, published.round)
        mean = noisy_mean([u.tensors for u in updates], published.tensors, privacy.clip, privacy.noise_multiplier, rng)
        return self.inner.aggregate(state, [replace_update(updates[0], mean, {})])


def with_central_privacy(spec: AlgorithmSpec[Any]) -> AlgorithmSpec[Any]:
    """`spec` whose halves are wrapped as above, marked as offering central DP."""
    make_client, make_server = spec.make_client, spec.make_server
    return replace(
        spec,
        make_client=lambda config: CentralPrivacyClient(make_client(config)),
        make_server=lambda config: CentralPrivacyServer(make_server(config)),
        central_privacy=True,
    )
