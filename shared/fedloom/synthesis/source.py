"""Where a synthetic dataset comes from: the last package of a finished federation, plus what it was.

A simulation's output folder (`summary.json` + `package.msgpack`) or a federation on an aggregator (its state
and its last round package, through the operator API). Only packages that hold one generator latent per class
(`latents`, FedKTL's) can be synthesised from; anything else is refused with a ConfigError that says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from fedloom.errors import ConfigError, WireError
from fedloom.ops.client import OperatorClient
from fedloom.simulation.runner import FINAL_PACKAGE
from fedloom.wire import GlobalPayload, decode

LATENTS, IMAGES = "latents", "images"


@dataclass(frozen=True)
class SynthesisSource:
    origin: str
    """The run folder or `federation ID at URL` the latents came from."""
    algorithm: str
    rounds: int
    class_latents: torch.Tensor
    """[num_classes, w_dim]: the server's latent of each class after the last round."""
    image_shape: tuple[int, int, int]
    """The clients' image shape [c, h, w]; synthetic images are written in it."""
    generator: str
    """The generator the federation used: 'builtin', 'tiny', a StyleGAN3 path, or 'remote'."""
    privacy: dict[str, Any] | None
    """The federation's privacy settings and the largest epsilon any client spent; None without privacy."""


def package_latents(package: GlobalPayload, algorithm: str) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """(class latents, client image shape) of a FedKTL package; ConfigError for any other package."""
    latents, images = package.tensors.get(LATENTS), package.tensors.get(IMAGES)
    if latents is None or images is None:
        raise ConfigError(
            f"{algorithm!r} left no class latents: synthesize needs a finished FedKTL federation (its last "
            "package holds one generator latent per class)"
        )
    if latents.ndim != 2 or images.ndim != 4 or len(latents) != len(images):
        raise ConfigError(f"malformed package: latents {list(latents.shape)}, images {list(images.shape)}")
    c, h, w = (int(n) for n in images.shape[1:])
    return latents.float(), (c, h, w)


def read_package(data: bytes, where: str) -> GlobalPayload:
    try:
        return decode(data, GlobalPayload)
    except WireError as exc:
        raise ConfigError(f"{where}: not a FedLoom package: {exc}") from exc


def source_from_run(run: Path) -> SynthesisSource:
    """The source a simulation's output folder describes (`fedloom simulate --out RUN`)."""
    summary_path, package_path = run / "summary.json", run / FINAL_PACKAGE
    for path in (summary_path, package_path):
        if not path.is_file():
            raise ConfigError(f"{path} not found: point synthesize at the --out folder of a finished simulation")
    try:
        summary = json.loads(summary_path.read_text())
        algorithm, generator, rounds = summary["config"]["algorithm"], summary["config"]["generator"], summary["rounds"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{summary_path} is not a FedLoom simulation summary: {exc!r}") from exc
    latents, shape = package_latents(read_package(package_path.read_bytes(), str(package_path)), algorithm)
    return SynthesisSource(str(run), algorithm, rounds, latents, shape, generator, summary.get("privacy"))


def federation_privacy(config: dict[str, Any], epsilon_max: float | None) -> dict[str, Any] | None:
    privacy = config["training"].get("privacy")
    return None if privacy is None else {**privacy, "epsilon_spent_max": epsilon_max or 0.0}


def source_from_federation(client: OperatorClient, federation_id: str) -> SynthesisSource:
    """The source a federation on an aggregator describes; it must have finished at least one round."""
    state = client.federation(federation_id)
    if not state.rounds:
        raise ConfigError(f"federation {federation_id} has no finished round to synthesise from")
    last = state.rounds[-1].round
    data = client.package(federation_id, last + 1)
    if data is None:
        raise ConfigError(f"federation {federation_id} has no package after round {last}")
    config = state.config.model_dump(mode="json")
    latents, shape = package_latents(read_package(data, f"federation {federation_id}"), state.config.algorithm)
    epsilon = max((r.epsilon_max for r in state.rounds if r.epsilon_max is not None), default=None)
    privacy = federation_privacy(config, epsilon)
    origin = f"federation {federation_id} at {client.url}"
    return SynthesisSource(origin, state.config.algorithm, last + 1, latents, shape, state.config.generator, privacy)
