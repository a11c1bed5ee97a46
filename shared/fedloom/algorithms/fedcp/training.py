"""FedCP's local training and evaluation passes (pfl_algorithms.md 9), over `parts.FedCPModel`.

Speed (batch 10 on CPUs is bound by per-step overhead and memory traffic, not arithmetic):
- base_g is frozen for the whole round, so its features of the train split are computed once, in
  evaluation-sized chunks, and indexed per batch (the same values as a per-batch pass; models whose batch norm
  mixes samples in training mode still get the per-batch pass, as in PFLlib);
- the MMD kernel comes from one distance matrix over [r; r_g] and one broadcast exp over the four bandwidths,
  with its block weights made once per batch size;
- the base's, head_p's and the CPN's Linear layers take their SGD step inside backward (`StepLinear`);
- the two-channel Gumbel-softmax draws one Logistic number per coordinate (`math.policy_masks`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.fedcp.math import logistic_noise, normalised_context
from fedloom.algorithms.fedcp.parts import FedCPModel
from fedloom.algorithms.mmd import mmd, mmd_block_weights
from fedloom.algorithms.training import ParamGroup, map_in_batches, mixes_batch, shuffled_batches, stepping


def noise_generator(device: torch.device, seed: int) -> torch.Generator:
    """A generator on `device` (the noise is drawn where it is used) seeded with `seed`."""
    return torch.Generator(device=device).manual_seed(seed)


def frozen_base_features(ctx: ClientContext, model: FedCPModel, x_all: torch.Tensor) -> torch.Tensor | None:
    """base_g(x) of the whole train split, or None where base_g mixes the samples of a batch (batch norm)."""
    if mixes_batch(model.base_g):
        return None
    return map_in_batches(model.base_g, x_all, ctx.settings.eval_batch_size)


def train_round(ctx: ClientContext, model: FedCPModel, context: torch.Tensor, lam: float) -> float:
    """The run's local epochs of SGD (lr) over base, head_p and CPN on CE + lam * MMD; the mean batch loss."""
    data, settings, device = ctx.data, ctx.settings, ctx.device
    x_all, y_all = data.train_x.to(device), data.train_y.to(device)
    model.train()
    targets = frozen_base_features(ctx, model, x_all) if lam != 0 else None
    unit_context = normalised_context(context)
    noise = noise_generator(device, int(torch.randint(0, 2**62, (), generator=ctx.rng)))
    group = ParamGroup(model.trainable(), settings.lr, fuse_from=model)
    block_weights: dict[int, torch.Tensor] = {}
    total, steps = torch.zeros((), device=device), 0
    with stepping([group]):
        for _ in range(settings.local_epochs):
            for idx in shuffled_batches(data.num_train, settings.batch_size, ctx.rng):
                x, n = x_all[idx], len(idx)
                features = model.base(x)
                logits = model.logits(features, unit_context, logistic_noise(features.shape, noise, device))
                loss = F.cross_entropy(logits, y_all[idx])
                if lam != 0:
                    if n not in block_weights:
                        block_weights[n] = mmd_block_weights(n, n, device)
                    target = targets[idx] if targets is not None else frozen_batch_features(model, x)
                    loss = loss + lam * mmd(features, target, block_weights=block_weights[n])
                group.zero_grad()
                loss.backward()
                group.step()
                total += loss.detach()
                steps += 1
    return float(total) / max(steps, 1)


@torch.no_grad()
def frozen_batch_features(model: FedCPModel, x: torch.Tensor) -> torch.Tensor:
    features: torch.Tensor = model.base_g(x)
    return features


@torch.no_grad()
def evaluate_logits(ctx: ClientContext, model: FedCPModel, context: torch.Tensor, seed: int) -> torch.Tensor:
    """FedCP's logits of the test split in eval mode, with Gumbel noise from a generator seeded with `seed`."""
    model.eval()
    unit_context, noise = normalised_context(context), noise_generator(ctx.device, seed)

    def logits(x: torch.Tensor) -> torch.Tensor:
        features = model.base(x)
        return model.logits(features, unit_context, logistic_noise(features.shape, noise, ctx.device))

    return map_in_batches(logits, ctx.data.test_x.to(ctx.device), ctx.settings.eval_batch_size)
