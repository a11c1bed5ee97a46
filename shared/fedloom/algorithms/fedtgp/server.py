"""Server half of FedTGP: train the prototype generator on the uploaded prototypes, publish all C rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from fedloom.algorithms import prototypes as wire_protos
from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.fedproto.math import average_prototypes
from fedloom.algorithms.fedtgp.config import FedTGPConfig
from fedloom.algorithms.fedtgp.math import PrototypeGenerator, acl_loss, class_margin
from fedloom.algorithms.training import ParamGroup, stepping
from fedloom.wire import ClientUpdate, GlobalPayload


@dataclass
class FedTGPState:
    round: int
    env: ServerEnv
    generator: PrototypeGenerator
    rng: torch.Generator
    margin: float = 0.0
    server_loss: float = 0.0


class FedTGPServer:
    def __init__(self, config: FedTGPConfig) -> None:
        self.config = config

    def init(self, env: ServerEnv) -> FedTGPState:
        rng = torch.Generator().manual_seed(env.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(env.seed)
            generator = PrototypeGenerator(env.num_classes, env.feature_dim).to(env.device)
        return FedTGPState(round=0, env=env, generator=generator, rng=rng)

    def bootstrap(self, state: FedTGPState) -> GlobalPayload:
        return GlobalPayload(round=state.round)

    def broadcast(self, state: FedTGPState) -> GlobalPayload:
        """All C global prototypes, evaluated in eval mode; nothing before the first aggregation."""
        if state.round == 0:
            return GlobalPayload(round=0)
        classes = torch.arange(state.env.num_classes, device=state.env.device)
        state.generator.eval()
        with torch.no_grad():
            table = state.generator.all_prototypes()
        values = {"margin": state.margin, "server_loss": state.server_loss}
        return GlobalPayload(round=state.round, tensors=wire_protos.pack(classes, table), values=values)

    def aggregate(self, state: FedTGPState, updates: Sequence[ClientUpdate]) -> FedTGPState:
        env = state.env
        labels, protos = wire_protos.stack_uploads(updates, env.num_classes, env.feature_dim)
        if labels.numel():
            present, means = average_prototypes(labels, protos, env.num_classes)
            averages = torch.zeros(env.num_classes, env.feature_dim)
            averages[present] = means
            state.margin = class_margin(averages, present, self.config.margin_threshold)
            state.server_loss = self.train_generator(state, labels.to(env.device), protos.to(env.device))
        state.round += 1
        return state

    def train_generator(self, state: FedTGPState, labels: torch.Tensor, protos: torch.Tensor) -> float:
        """`server_epochs` epochs of SGD on the ACL loss over the (prototype, class) pairs; mean last-epoch loss."""
        env, cfg = state.env, self.config
        lr = cfg.server_lr or env.settings.lr
        batch = cfg.server_batch_size or env.settings.batch_size
        group = ParamGroup(list(state.generator.parameters()), lr, fuse_from=state.generator)
        state.generator.train()
        epoch_loss = 0.0
        with stepping([group]):
            for _ in range(cfg.server_epochs):
                order = torch.randperm(labels.numel(), generator=state.rng).to(env.device)
                losses = []
                for start in range(0, labels.numel(), batch):
                    idx = order[start : start + batch]
                    group.zero_grad()
                    loss = acl_loss(protos[idx], labels[idx], state.generator.all_prototypes(), state.margin)
                    loss.backward()
                    group.step()
                    losses.append(loss.detach())
                epoch_loss = float(torch.stack(losses).mean())
        return epoch_loss
