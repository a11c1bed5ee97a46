"""Server half of FedGH: train the global head with CE on the uploaded prototypes, push it to all clients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from fedloom.algorithms import prototypes as wire_protos
from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedgh.config import FedGHConfig
from fedloom.algorithms.fedgh.math import epoch_batches, head_loss
from fedloom.algorithms.shared_head import head_tensors, init_global_head
from fedloom.wire import ClientUpdate, GlobalPayload


@dataclass
class FedGHState:
    round: int
    env: ServerEnv
    head: nn.Linear
    rng: torch.Generator
    server_loss: float = 0.0


class FedGHServer:
    def __init__(self, config: FedGHConfig) -> None:
        self.config = config

    def init(self, env: ServerEnv) -> FedGHState:
        rng = torch.Generator().manual_seed(env.seed)
        return FedGHState(round=0, env=env, head=init_global_head(env).to(env.device), rng=rng)

    def bootstrap(self, state: FedGHState) -> GlobalPayload:
        return GlobalPayload(round=state.round)

    def broadcast(self, state: FedGHState) -> GlobalPayload:
        values = {"server_loss": state.server_loss}
        return GlobalPayload(round=state.round, tensors=head_tensors(state.head), values=values)

    def aggregate(self, state: FedGHState, updates: Sequence[ClientUpdate]) -> FedGHState:
        env = state.env
        labels, protos = wire_protos.stack_uploads(updates, env.num_classes, env.feature_dim)
        if labels.numel():
            state.server_loss = self.train_head(state, labels.to(env.device), protos.to(env.device))
        state.round += 1
        return state

    def train_head(self, state: FedGHState, labels: torch.Tensor, protos: torch.Tensor) -> float:
        """`server_epochs` epochs of SGD on the (prototype, class) pairs; the last epoch's mean loss."""
        cfg, head = self.config, state.head
        batch = cfg.server_batch_size or state.env.settings.batch_size
        optimizer = torch.optim.SGD(head.parameters(), lr=cfg.server_lr)
        epoch_loss = 0.0
        for _ in range(cfg.server_epochs):
            losses = []
            for idx in epoch_batches(labels.numel(), batch, state.rng):
                idx = idx.to(labels.device)
                optimizer.zero_grad(set_to_none=True)
                loss = head_loss(protos[idx], labels[idx], head.weight, head.bias)
                loss.backward()
                optimizer.step()
                losses.append(loss.detach())
            epoch_loss = float(torch.stack(losses).mean())
        return epoch_loss
