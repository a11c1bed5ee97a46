"""How useful a synthetic dataset is: train a fresh model on it alone, test it on the clients' real test splits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from fedloom.algorithms.base import ClientContext, TrainSettings
from fedloom.algorithms.training import map_in_batches, model_group, train_local
from fedloom.data.pfl import load_pfl_folder
from fedloom.data.types import ClientData, FederatedDataset
from fedloom.errors import ConfigError
from fedloom.models import build_model
from fedloom.models.base import BaseHeadModel


@dataclass(frozen=True)
class UtilitySettings:
    arch: str = "cnn4"
    epochs: int = 5
    batch_size: int = 10
    lr: float = 0.01
    seed: int = 0


def synthetic_images(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Every image of a synthetic dataset's PFLlib folder (its train and test splits together)."""
    data = load_pfl_folder(folder / "pfl").clients[0]
    return torch.cat([data.train_x, data.test_x]), torch.cat([data.train_y, data.test_y])


def train_fresh_model(
    x: torch.Tensor, y: torch.Tensor, num_classes: int, settings: UtilitySettings, progress: bool = True
) -> BaseHeadModel:
    """A new `settings.arch` trained with plain SGD and cross-entropy on (x, y) only, through the clients' own
    training loop (`train_local`), one epoch per progress step."""
    torch.manual_seed(settings.seed)
    shape = (int(x.shape[1]), int(x.shape[2]), int(x.shape[3]))
    model = build_model(settings.arch, shape, num_classes)
    data = ClientData(0, x, y, x[:0], y[:0])
    train = TrainSettings(local_epochs=1, batch_size=settings.batch_size, lr=settings.lr)
    ctx = ClientContext(0, model, data, num_classes, train, torch.Generator().manual_seed(settings.seed))
    for _ in tqdm(range(settings.epochs), desc="training on synthetic images", unit="epoch", disable=not progress):
        train_local(ctx, lambda xb, yb: F.cross_entropy(model(xb), yb), [model_group(ctx, fused=True)])
    return model.eval()


@torch.no_grad()
def real_test_accuracy(model: BaseHeadModel, real: FederatedDataset) -> tuple[float, list[float]]:
    """Sample-weighted accuracy over every client's real test split, and each client's own."""
    correct = total = 0
    per_client = []
    for client in real.clients:
        predictions = map_in_batches(model, client.test_x, 1000).argmax(dim=1)
        hits = int((predictions == client.test_y).sum())
        correct, total = correct + hits, total + client.num_test
        per_client.append(hits / max(client.num_test, 1))
    return correct / max(total, 1), per_client


def synthetic_utility(
    folder: Path, real: FederatedDataset, settings: UtilitySettings, progress: bool = True
) -> dict[str, Any]:
    """Accuracy on the real test splits of a model trained on the synthetic images only, beside chance."""
    x, y = synthetic_images(folder)
    if tuple(x.shape[1:]) != tuple(real.input_shape):
        raise ConfigError(f"synthetic images are {list(x.shape[1:])}, the real data {list(real.input_shape)}")
    model = train_fresh_model(x, y, real.num_classes, settings, progress)
    accuracy, per_client = real_test_accuracy(model, real)
    return {
        "accuracy": accuracy,
        "chance": 1.0 / real.num_classes,
        "per_client_accuracy": per_client,
        "synthetic_images": len(y),
        "settings": asdict(settings),
    }
