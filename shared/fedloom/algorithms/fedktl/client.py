"""Client half of FedKTL: ArcFace loss on fixed ETF vectors + mu * MSE on generated image-latent pairs.

One-time bootstrap: `etf` [C, C] and the initial `proj_fc.weight` / `proj_fc.bias`. The projection is
then trained and kept on the client across rounds (HtFLlib reset it every round; algorithms.md 7).
Per round: `images` [C, c, H, W] and `latents` [C, d] from round 1 on.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from fedloom.algorithms import prototypes as wire_protos
from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fedktl.config import FedKTLConfig
from fedloom.algorithms.fedktl.math import arcface_logits, etf_cosines, etf_prototypes
from fedloom.algorithms.private_upload import check_privacy_budget, class_mean_upload
from fedloom.algorithms.training import (
    ParamGroup,
    base_of_both,
    map_in_batches,
    model_group,
    report_accuracy,
    shuffled_batches,
    train_local,
)
from fedloom.errors import WireError
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


def cycling_batches(n: int, batch_size: int, rng: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless index batches over n items, reshuffled at every pass (never empty)."""
    while True:
        yield from shuffled_batches(n, min(batch_size, n), rng)


def projection_from(bootstrap: GlobalPayload, device: torch.device) -> nn.Linear:
    weight, bias = bootstrap.tensors["proj_fc.weight"], bootstrap.tensors["proj_fc.bias"]
    proj = nn.Linear(weight.shape[1], weight.shape[0]).to(device)
    with torch.no_grad():
        proj.weight.copy_(weight)
        proj.bias.copy_(bias)
    return proj


class FedKTLClient:
    def __init__(self, config: FedKTLConfig) -> None:
        self.config = config

    def join(self, ctx: ClientContext, bootstrap: GlobalPayload) -> None:
        needed = {"etf", "proj_fc.weight", "proj_fc.bias"}
        if not needed <= bootstrap.tensors.keys():
            raise WireError(f"FedKTL bootstrap needs {sorted(needed)}")
        ctx.state["etf"] = bootstrap.tensors["etf"].to(ctx.device)
        ctx.state["proj_fc"] = projection_from(bootstrap, ctx.device)

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        check_privacy_budget(ctx)
        cfg, etf, proj = self.config, ctx.state["etf"], ctx.state["proj_fc"]
        pairs = self.generated_pairs(ctx, payload)

        def arcface_loss(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(arcface_logits(ctx.model.head(f), etf, y, cfg.margin, cfg.scale), y)

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            if pairs is None:
                return arcface_loss(ctx.model.base(x), y)
            images, latents, batches = pairs
            idx = next(batches)
            f, f_images = base_of_both(ctx.model, x, images[idx])
            return arcface_loss(f, y) + cfg.mu * F.mse_loss(proj(f_images), latents[idx])

        groups = [
            model_group(ctx, cfg.clip_norm),
            ParamGroup(list(proj.parameters()), ctx.settings.lr, cfg.clip_norm),
        ]
        loss = train_local(ctx, loss_fn, groups)
        ctx.model.eval()
        z = map_in_batches(ctx.model, ctx.data.train_x.to(ctx.device), ctx.settings.eval_batch_size)
        if ctx.settings.privacy is not None:  # P^c = normalise(noisy sum of the unit rows of class c)
            return class_mean_upload(ctx, payload.round, loss, F.normalize(z, dim=1), normalise=True)
        classes, protos = etf_prototypes(z, ctx.data.train_y.to(ctx.device), ctx.num_classes)
        return ClientUpdate(
            round=payload.round,
            client_id=ctx.client_id,
            num_samples=ctx.data.num_train,
            tensors=wire_protos.pack(classes, protos),
            values={"loss": loss},
        )

    def generated_pairs(
        self, ctx: ClientContext, payload: GlobalPayload
    ) -> tuple[torch.Tensor, torch.Tensor, Iterator[torch.Tensor]] | None:
        if "images" not in payload.tensors:
            return None
        images, latents = payload.tensors["images"].to(ctx.device), payload.tensors["latents"].to(ctx.device)
        if images.shape[1:] != ctx.data.train_x.shape[1:] or latents.shape[0] != images.shape[0]:
            raise WireError(f"generated images {tuple(images.shape)} do not fit this client's data")
        return images, latents, cycling_batches(images.shape[0], ctx.settings.batch_size, ctx.rng)

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        ctx.model.eval()
        z = map_in_batches(ctx.model, ctx.data.test_x.to(ctx.device), ctx.settings.eval_batch_size)
        return report_accuracy(ctx, payload.round, etf_cosines(z, ctx.state["etf"]).argmax(dim=1))
