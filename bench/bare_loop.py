"""A plain-PyTorch loop to set the simulator's speed against: no framework, and less work than it does.

Same client models (same seeds), same batches (same per-client generators), plain SGD steps with
cross-entropy only: no prototype or ArcFace terms, torch.optim.SGD after a separate backward (FedLoom fuses
the step into backward and updates with one foreach call), for FedKTL a second forward pass on a batch of
generated images through a projection and the gradient clipping; then the forward passes every round needs:
over each client's test split and, for algorithms that collect prototypes after training (FedTGP,
FedKTL), over its train split. No codec, no transport, no server step, no metrics.
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from fedloom.algorithms.base import ClientContext
from fedloom.algorithms.training import shuffled_batches

POST_TRAINING_PASS = {"fedtgp", "fedktl"}
GENERATED_PAIRS = {"fedktl"}  # images [C, *input], latents [C, 512], mu 50, clip 100 (FedKTL defaults)


def bare_round(contexts: dict[int, ClientContext], algorithm: str) -> None:
    for ctx in contexts.values():
        model, data = ctx.model, ctx.data
        images = torch.randn(ctx.num_classes, *data.train_x.shape[1:])
        latents, proj = torch.randn(ctx.num_classes, 512), torch.nn.Linear(model.feature_dim, 512)
        params = list(model.parameters()) + (list(proj.parameters()) if algorithm in GENERATED_PAIRS else [])
        optimizer = torch.optim.SGD(params, lr=ctx.settings.lr)
        model.train()
        for idx in shuffled_batches(data.num_train, ctx.settings.batch_size, ctx.rng):
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(data.train_x[idx]), data.train_y[idx])
            if algorithm in GENERATED_PAIRS:
                loss = loss + 50.0 * F.mse_loss(proj(model.base(images)), latents)
            loss.backward()
            if algorithm in GENERATED_PAIRS:
                torch.nn.utils.clip_grad_norm_(params, 100.0)
            optimizer.step()
        model.eval()
        with torch.no_grad():
            passes = [data.test_x] + ([data.train_x] if algorithm in POST_TRAINING_PASS else [])
            for x in passes:
                for start in range(0, len(x), ctx.settings.eval_batch_size):
                    model(x[start : start + ctx.settings.eval_batch_size])


def bare_seconds_per_round(contexts: dict[int, ClientContext], algorithm: str, rounds: int) -> float:
    """Median wall time of `rounds` bare rounds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        bare_round(contexts, algorithm)
        times.append(time.perf_counter() - started)
    return statistics.median(times)
