"""The upload of every algorithm that sends per-class means of per-sample rows (FedProto, FedTGP, FedGH:
features; FD: logits; FedKTL: unit vectors in ETF space), with or without differential privacy.

With `ctx.settings.privacy` the client clips each training sample's row, adds Gaussian noise to the per-class
sums and counts (`fedloom.privacy.mechanism`), and uploads the noisy means of the classes whose noisy count
clears the threshold. Everything else it would send that depends on its training data is left out or
derived from the noisy release: `num_samples` is the rounded sum of the noisy counts and the training loss
is not sent. The epsilon spent so far travels as the value `epsilon` (the ledger: `fedloom.privacy.ledger`).
Rows come from one eval-mode pass of the trained model over the training split, so each sample counts once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fedloom.algorithms import prototypes as wire_protos
from fedloom.algorithms.base import ClientContext
from fedloom.privacy.ledger import EPSILON, next_release_epsilon, spend_release
from fedloom.privacy.mechanism import private_class_means
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
    values = {"loss": loss}
    num_samples = ctx.data.num_train
    if privacy is None:
        classes, means = wire_protos.class_means(rows, labels, ctx.num_classes)
    else:
        assert privacy.noise_multiplier is not None  # planned settings only reach clients
        values = {EPSILON: spend_release(ctx.state, privacy)}
        classes, means, noisy_total = private_class_means(
            rows, labels, ctx.num_classes, privacy.clip, privacy.noise_multiplier, ctx.rng
        )
        num_samples = max(1, round(noisy_total))
    if normalise:
        means = F.normalize(means, dim=1)
    return ClientUpdate(
        round=round_,
        client_id=ctx.client_id,
        num_samples=num_samples,
        tensors=wire_protos.pack(classes, means),
        values=values,
    )
