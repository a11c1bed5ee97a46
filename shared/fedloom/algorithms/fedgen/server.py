"""Server half of FedGen: train the feature generator against the uploaded heads, average the heads.

Per round (algorithms.md 1.6): `server_epochs` Adam steps, each on a batch of labels drawn in
proportion to the clients' train counts, minimising CE of the sample-weighted head ensemble on
G(z, y); then the heads' weighted mean becomes the global head. Unlike HtFLlib, the trained generator
is what the clients receive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedgen.config import FedGenConfig
from fedloom.algorithms.fedgen.math import FeatureGenerator, generator_loss, sample_labels, sample_noise
from fedloom.algorithms.fedgen.wire import COUNTS, GENERATOR, check_fedgen_upload
from fedloom.algorithms.model_parts import part_tensors
from fedloom.algorithms.shared_head import (
    HEAD,
    average_heads,
    head_tensors,
    init_global_head,
    linear_head_shapes,
    set_head,
)
from fedloom.wire import ClientUpdate, GlobalPayload


@dataclass
class FedGenState:
    round: int
    env: ServerEnv
    head: torch.nn.Linear
    generator: FeatureGenerator
    optimizer: torch.optim.Adam
    rng: torch.Generator
    counts: dict[int, torch.Tensor] = field(default_factory=dict)  # latest train counts per client
    trained: bool = False
    server_loss: float = 0.0


class FedGenServer:
    def __init__(self, config: FedGenConfig) -> None:
        self.config = config

    def init(self, env: ServerEnv) -> FedGenState:
        cfg = self.config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(env.seed + 1)
            generator = FeatureGenerator(cfg.noise_dim, env.num_classes, cfg.hidden_dim, env.feature_dim).to(env.device)
        optimizer = torch.optim.Adam(generator.parameters(), lr=cfg.generator_lr, betas=(0.9, 0.999))
        rng = torch.Generator().manual_seed(env.seed)
        return FedGenState(0, env, init_global_head(env).to(env.device), generator, optimizer, rng)

    def bootstrap(self, state: FedGenState) -> GlobalPayload:
        return GlobalPayload(round=state.round)

    def broadcast(self, state: FedGenState) -> GlobalPayload:
        tensors = head_tensors(state.head)
        if state.trained:
            tensors |= part_tensors(state.generator, GENERATOR) | {COUNTS: self.total_counts(state)}
        return GlobalPayload(round=state.round, tensors=tensors, values={"server_loss": state.server_loss})

    def aggregate(self, state: FedGenState, updates: Sequence[ClientUpdate]) -> FedGenState:
        env = state.env
        for update in updates:
            check_fedgen_upload(update, env.num_classes, env.feature_dim)
            state.counts[update.client_id] = update.tensors[COUNTS].clone()
        if updates and int(self.total_counts(state).sum()) > 0:
            state.server_loss = self.train_generator(state, updates)
            state.trained = True
        if updates:
            set_head(state.head, average_heads(updates, linear_head_shapes(env.num_classes, env.feature_dim)))
        state.round += 1
        return state

    @staticmethod
    def total_counts(state: FedGenState) -> torch.Tensor:
        return torch.stack(list(state.counts.values())).sum(0) if state.counts else torch.zeros(0, dtype=torch.int64)

    def train_generator(self, state: FedGenState, updates: Sequence[ClientUpdate]) -> float:
        """`server_epochs` Adam steps on CE of the weighted head ensemble; the mean loss of those steps."""
        env, cfg = state.env, self.config
        heads = [(u.tensors[HEAD + "weight"].to(env.device), u.tensors[HEAD + "bias"].to(env.device)) for u in updates]
        samples = torch.tensor([float(u.num_samples) for u in updates])
        weights = (samples / samples.sum() if samples.sum() > 0 else torch.full_like(samples, 1 / len(updates))).to(
            env.device
        )
        counts, batch = self.total_counts(state), cfg.server_batch_size or max(2, env.settings.batch_size)
        state.generator.train()
        losses = []
        for _ in range(cfg.server_epochs):
            labels = sample_labels(counts, batch, state.rng).to(env.device)
            noise = sample_noise(batch, cfg.noise_dim, state.rng).to(env.device)
            state.optimizer.zero_grad(set_to_none=True)
            loss = generator_loss(state.generator(noise, labels), labels, heads, weights)
            loss.backward()
            state.optimizer.step()
            losses.append(loss.detach())
        return float(torch.stack(losses).mean()) if losses else 0.0
