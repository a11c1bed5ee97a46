"""Server half of FedKTL: align prototypes with the generator's latent space, then generate images.

Per round (algorithms.md 1.12): set class centroids from the feature transformer F, train F and the
centroids for `server_epochs` on MMD(F(P), omega) + lam * MSE(F(P), centroid[y]) with latents omega
sampled from the generator, reset the centroids, and synthesise one image per class from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from fedloom.algorithms import prototypes as wire_protos
from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedktl.config import FedKTLConfig
from fedloom.algorithms.fedktl.math import etf_vectors, mmd_rbf
from fedloom.errors import ConfigError
from fedloom.generation.postprocess import to_client_images
from fedloom.generation.protocol import ImageGenerator
from fedloom.wire import ClientUpdate, GlobalPayload


def feature_transformer(num_classes: int, latent_dim: int) -> nn.Sequential:
    """F: Linear(C, C) -> BatchNorm1d(C) -> ReLU -> Linear(C, d_lat)."""
    return nn.Sequential(
        nn.Linear(num_classes, num_classes),
        nn.BatchNorm1d(num_classes),
        nn.ReLU(),
        nn.Linear(num_classes, latent_dim),
    )


@dataclass
class FedKTLState:
    round: int
    env: ServerEnv
    generator: ImageGenerator
    etf: torch.Tensor
    proj_fc: nn.Linear
    transformer: nn.Sequential
    centroids: nn.Embedding
    rng: torch.Generator
    images: torch.Tensor | None = None
    latents: torch.Tensor | None = None
    losses: dict[str, float] = field(default_factory=dict)


class FedKTLServer:
    def __init__(self, config: FedKTLConfig) -> None:
        self.config = config

    def init(self, env: ServerEnv) -> FedKTLState:
        if env.generator is None:
            raise ConfigError("FedKTL needs an image generator (e.g. --generator PATH or the built-in one)")
        if env.input_shape is None:
            raise ConfigError("FedKTL needs the clients' input shape to produce images for them")
        rng = torch.Generator().manual_seed(env.seed)
        latent_dim, classes = env.generator.w_dim, env.num_classes
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(env.seed)
            proj_fc = nn.Linear(env.feature_dim, latent_dim)
            transformer = feature_transformer(classes, latent_dim).to(env.device)
            centroids = nn.Embedding(classes, latent_dim).to(env.device)
        etf = etf_vectors(classes, rng)
        return FedKTLState(0, env, env.generator, etf, proj_fc, transformer, centroids, rng)

    def bootstrap(self, state: FedKTLState) -> GlobalPayload:
        tensors = {
            "etf": state.etf,
            "proj_fc.weight": state.proj_fc.weight.detach(),
            "proj_fc.bias": state.proj_fc.bias.detach(),
        }
        return GlobalPayload(round=state.round, tensors=tensors)

    def broadcast(self, state: FedKTLState) -> GlobalPayload:
        if state.images is None or state.latents is None:
            return GlobalPayload(round=state.round)
        tensors = {"images": state.images, "latents": state.latents}
        return GlobalPayload(round=state.round, tensors=tensors, values=state.losses)

    def aggregate(self, state: FedKTLState, updates: Sequence[ClientUpdate]) -> FedKTLState:
        env = state.env
        labels, protos = wire_protos.stack_uploads(updates, env.num_classes, env.num_classes)
        if labels.numel():
            state.losses = self.align(state, labels.to(env.device), protos.to(env.device))
            latents = state.centroids.weight.detach().clone()
            with torch.no_grad():
                images = state.generator.synthesize(latents)
            state.latents = latents.cpu()
            assert env.input_shape is not None
            state.images = to_client_images(images.float(), env.input_shape).cpu()
        state.round += 1
        return state

    def align(self, state: FedKTLState, labels: torch.Tensor, protos: torch.Tensor) -> dict[str, float]:
        """Train F and the centroids on the uploaded pairs; returns the last epoch's mean losses."""
        cfg = self.config
        f, centroids = state.transformer, state.centroids
        optimisers = [torch.optim.Adam(m.parameters(), lr=cfg.server_lr) for m in (f, centroids)]
        self.reset_centroids(state, labels, protos)
        mmd_sum = mse_sum = 0.0
        batches = 1
        for _ in range(cfg.server_epochs):
            mmd_sum = mse_sum = 0.0
            epoch = self.server_batches(labels.numel(), state.rng)
            batches = max(len(epoch), 1)
            for idx in epoch:
                f.train()
                q = f(protos[idx])
                omega = state.generator.sample_latents(len(idx), state.rng).to(q.device)
                mmd, mse = mmd_rbf(q, omega), F.mse_loss(q, centroids(labels[idx]))
                for opt in optimisers:
                    opt.zero_grad(set_to_none=True)
                (mmd + cfg.lam * mse).backward()
                for module, opt in zip((f, centroids), optimisers, strict=True):
                    nn.utils.clip_grad_norm_(module.parameters(), cfg.clip_norm)
                    opt.step()
                mmd_sum, mse_sum = mmd_sum + mmd.item(), mse_sum + mse.item()
        self.reset_centroids(state, labels, protos)
        return {"align_mmd": mmd_sum / batches, "align_mse": mse_sum / batches}

    def server_batches(self, n: int, rng: torch.Generator) -> list[torch.Tensor]:
        """Shuffled batches of `server_batch_size`; a trailing batch of one is dropped (BatchNorm)."""
        order = torch.randperm(n, generator=rng)
        batches = list(order.split(self.config.server_batch_size))
        return [b for b in batches if b.numel() > 1]

    @torch.no_grad()
    def reset_centroids(self, state: FedKTLState, labels: torch.Tensor, protos: torch.Tensor) -> None:
        """Centroid of class c := eval-mode mean of F(P) over its pairs; absent classes keep theirs."""
        state.transformer.eval()
        classes, means = wire_protos.class_means(state.transformer(protos), labels, state.env.num_classes)
        state.centroids.weight[classes] = means
