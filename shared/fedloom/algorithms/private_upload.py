"""The upload of every algorithm that sends per-class means of per-sample rows (FedProto, FedTGP, FedGH:
features; FD: logits; FedKTL: unit vectors in ETF space), with or without differential privacy.

With `ctx.settings.privacy` the client clips each training sample's row, adds Gaussian noise to the per-class
sums and counts (`fedloom.privacy.mechanism`), and uploads the noisy means of the classes whose noisy count
clears the threshold, with those noisy counts (`counts`: part of the release already, so sending them costs no
privacy; FedProto's and FD's servers weight by them). Everything else it would send that depends on its
training data is left out or derived from the noisy release: `num_samples` is the rounded sum of the noisy
counts and the training loss is not sent. The epsilon spent so far travels as the value `epsilon` (the ledger:
`fedloom.privacy.ledger`); the noise comes from `fedloom.privacy.noise`. Rows come from one eval-mode pass of
the trained model over the training split, so each sample counts once.
"""

from __future__ import annotations

import torch

from fedloom.algorithms import prototypes as wire_protos
from fedloom.algorithms.base import ClientContext
from fedloom.privacy.ledger import EPSILON, next_release_epsilon, spend_release
from fedloom.privacy.mechanism import private_class_means
from fedloom.privacy.noise import release_noise_generator
from fedloom.wire import ClientUpdate


def check_privacy_budget(ctx: ClientContext) -> None:
    """Before any training: PrivacyBudgetExceeded when this client's next upload would exceed its budget."""
    if ctx.settings.privacy is not None:
        next_release_epsilon(ctx.state, ctx.settings.privacy)


def class_mean_upload(
    ctx: ClientContext, round_: int, loss: float, rows: torch.Tensor, normalise: bool = False
) -> ClientUpdate:
    """Per-class means of `rows` (one per training sample, in the split's order) as the client's upload."""
    labels = ctx.data.train_y.to(rows.device)
    privacy = ctx.settings.privacy
    if privacy is None:
        classes, means = wire_protos.class_means(rows, labels, ctx.num_classes)
        tensors, num_samples, values = wire_protos.pack(classes, means, normalise), ctx.data.num_train, {"loss": loss}
    else:
        assert privacy.noise_multiplier is not None  # planned settings only reach clients
        values = {EPSILON: spend_release(ctx.state, privacy)}
        noise = release_noise_generator(ctx.state, ctx.rng)
        classes, means, counts, noisy_total = private_class_means(
            rows, labels, ctx.num_classes, privacy.clip, privacy.noise_multiplier, noise
        )
        tensors = {**wire_protos.pack(classes, means, normalise), wire_protos.COUNTS: counts.float().cpu()}
        num_samples = max(1, round(noisy_total))
    return ClientUpdate(round=round_, client_id=ctx.client_id, num_samples=num_samples, tensors=tensors, values=values)
