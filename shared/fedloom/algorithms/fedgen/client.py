"""Client half of FedGen: CE on own data + CE of the head on generated features of sampled labels.

The generator comes from the server (trained there each round); the client only runs it, in train
mode and without gradients, so only the head learns from the generated features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fedloom.algorithms.base import ClientContext, NoBootstrap
from fedloom.algorithms.fedgen.config import FedGenConfig
from fedloom.algorithms.fedgen.math import FeatureGenerator, sample_labels, sample_noise
from fedloom.algorithms.fedgen.wire import COUNTS, GENERATOR, check_counts
from fedloom.algorithms.model_parts import load_part, select_part
from fedloom.algorithms.shared_head import evaluate_shared_head, head_tensors, receive_head
from fedloom.algorithms.training import model_group, train_local
from fedloom.wire import ClientUpdate, EvalReport, GlobalPayload


class FedGenClient(NoBootstrap):
    def __init__(self, config: FedGenConfig) -> None:
        self.config = config

    def generator(self, ctx: ClientContext, payload: GlobalPayload) -> tuple[FeatureGenerator, torch.Tensor] | None:
        """The server's generator and label counts from `payload`, or None before it was first trained."""
        if not select_part(payload.tensors, GENERATOR):
            return None
        cfg = self.config
        if "fedgen_generator" not in ctx.state:
            module = FeatureGenerator(cfg.noise_dim, ctx.num_classes, cfg.hidden_dim, ctx.model.feature_dim)
            ctx.state["fedgen_generator"] = module.to(ctx.device)
        generator: FeatureGenerator = ctx.state["fedgen_generator"]
        load_part(generator, payload.tensors, GENERATOR)
        return generator.train(), check_counts(payload.tensors, ctx.num_classes)

    def fit(self, ctx: ClientContext, payload: GlobalPayload) -> ClientUpdate:
        receive_head(ctx, payload)
        teacher = self.generator(ctx, payload)
        batch = max(2, ctx.settings.batch_size)

        def loss_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            loss = F.cross_entropy(ctx.model(x), y)
            if teacher is not None:
                generator, counts = teacher
                labels = sample_labels(counts, batch, ctx.rng)
                with torch.no_grad():
                    features = generator(
                        sample_noise(batch, generator.noise_dim, ctx.rng).to(ctx.device), labels.to(ctx.device)
                    )
                loss = loss + F.cross_entropy(ctx.model.head(features), labels.to(ctx.device))
            return loss

        loss = train_local(ctx, loss_fn, [model_group(ctx)])
        counts = torch.bincount(ctx.data.train_y.cpu(), minlength=ctx.num_classes).to(torch.int64)
        return ClientUpdate(
            round=payload.round,
            client_id=ctx.client_id,
            num_samples=ctx.data.num_train,
            tensors={**head_tensors(ctx.model.head), COUNTS: counts},
            values={"loss": loss},
        )

    def evaluate(self, ctx: ClientContext, payload: GlobalPayload) -> EvalReport:
        return evaluate_shared_head(ctx, payload)
