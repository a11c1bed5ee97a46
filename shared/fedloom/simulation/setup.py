"""Build what a simulated federation needs from its config: data, client contexts, generator, env."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import torch

from fedloom.algorithms.base import AlgorithmSpec, ClientContext, ServerEnv
from fedloom.data import DatasetSpec, load_federated_dataset
from fedloom.data.types import FederatedDataset
from fedloom.generation.backends import load_generator
from fedloom.models import build_model, client_architecture, group_architectures
from fedloom.runtime import client_seed, model_seed
from fedloom.simulation.config import SimulationConfig


def load_dataset(cfg: SimulationConfig) -> FederatedDataset:
    """The federated data set; a `pfl:DIR` folder brings its own clients unless --clients is given."""
    fields: dict[str, Any] = {
        "name": cfg.dataset,
        "partition": cfg.partition,
        "seed": cfg.seed,
        "data_dir": cfg.data_dir,
        "batch_size": cfg.batch_size,
        **cfg.dataset_options,
    }
    if "clients" in cfg.model_fields_set:
        fields["num_clients"] = cfg.clients
    return load_federated_dataset(DatasetSpec.model_validate(fields))


def build_contexts(
    cfg: SimulationConfig, dataset: FederatedDataset, device: torch.device, client_ids: Collection[int] | None = None
) -> dict[int, ClientContext]:
    """One context per client (or per client in `client_ids`): model i mod n of the group, seeded, on `device`,
    data moved there once. A worker that builds only its own clients gets the very same contexts."""
    return {
        data.client_id: build_context(cfg, dataset, index, device)
        for index, data in enumerate(dataset.clients)
        if client_ids is None or data.client_id in client_ids
    }


def build_context(cfg: SimulationConfig, dataset: FederatedDataset, index: int, device: torch.device) -> ClientContext:
    """The context of the client at position `index` of `dataset.clients`: weights from the run seed and its
    architecture, batch order from the run seed and its id (fedloom.runtime)."""
    data = dataset.clients[index]
    architecture = client_architecture(cfg.models, index)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(model_seed(cfg.seed, architecture))
        model = build_model(architecture, dataset.input_shape, dataset.num_classes, cfg.feature_dim).to(device)
    return ClientContext(
        client_id=data.client_id,
        model=model,
        data=data,
        num_classes=dataset.num_classes,
        settings=cfg.train_settings(),
        rng=torch.Generator().manual_seed(client_seed(cfg.seed, data.client_id)),
        device=device,
    )


def build_env(
    cfg: SimulationConfig, spec: AlgorithmSpec[Any], dataset: FederatedDataset, device: torch.device
) -> ServerEnv:
    generator = load_generator(cfg.generator, device) if spec.needs_generator else None
    return ServerEnv(
        num_classes=dataset.num_classes,
        feature_dim=cfg.feature_dim,
        settings=cfg.train_settings(),
        seed=cfg.seed,
        device=device,
        generator=generator,
        input_shape=dataset.input_shape,
        reference_arch=group_architectures(cfg.models)[0],
        rounds=cfg.rounds,
    )
