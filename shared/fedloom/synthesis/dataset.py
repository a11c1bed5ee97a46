"""Write a synthetic dataset: images/<class>/<n>.png, labels.csv, a PFLlib folder, metadata.json, README.md.

Images are generated in batches (progress bar), turned into the clients' image shape and normalisation
(`to_client_images`) and stored as 8-bit PNGs; the PFLlib folder (`pfl/`, one client, 75/25 train/test split)
holds the same pixels, so `fedloom simulate --dataset pfl:OUT/pfl` or PFLlib itself can train on it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from fedloom.data.pfl import save_pfl_folder
from fedloom.data.raw import normalise_uint8
from fedloom.data.stats import compute_statistics
from fedloom.data.types import ClientData, FederatedDataset
from fedloom.errors import ConfigError
from fedloom.generation.backends import load_generator
from fedloom.generation.postprocess import to_client_images
from fedloom.generation.protocol import ImageGenerator
from fedloom.synthesis.latents import perturbed_latents
from fedloom.synthesis.readme import describe_privacy, readme_text
from fedloom.synthesis.source import SynthesisSource

TRAIN_FRACTION = 0.75


class SyntheticOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    per_class: int = Field(100, ge=1, le=100_000, description="images per class")
    strength: float = Field(0.5, ge=0, le=4, description="latent perturbation: w_c + strength (omega - mean)")
    seed: int = Field(0, ge=0)
    batch_size: int = Field(256, ge=1)
    generator: str | None = Field(None, description="override the federation's generator (name or path)")


def open_generator(source: SynthesisSource, options: SyntheticOptions) -> ImageGenerator:
    name = options.generator or source.generator
    if name == "remote":
        raise ConfigError("the federation used the generator service: pass --generator with its StyleGAN3 pickle")
    generator = load_generator(name)
    if generator.w_dim != source.class_latents.shape[1]:
        raise ConfigError(
            f"generator {name!r} has w_dim {generator.w_dim} but the federation's latents have "
            f"{source.class_latents.shape[1]}: use the generator the federation used"
        )
    return generator


@torch.no_grad()
def generate_pixels(
    source: SynthesisSource, options: SyntheticOptions, progress: bool
) -> tuple[npt.NDArray[np.uint8], torch.Tensor]:
    """(uint8 images [n, c, h, w] in the clients' shape, labels [n]) for every class."""
    generator = open_generator(source, options)
    rng = torch.Generator().manual_seed(options.seed)
    latents, labels = perturbed_latents(
        source.class_latents, options.per_class, options.strength, generator.sample_latents, rng
    )
    chunks = []
    for batch in tqdm(latents.split(options.batch_size), desc="synthesising", unit="batch", disable=not progress):
        images = to_client_images(generator.synthesize(batch).float().cpu(), source.image_shape)
        chunks.append(((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8))
    return torch.cat(chunks).numpy(), labels


def write_image_folder(pixels: npt.NDArray[np.uint8], labels: torch.Tensor, out: Path) -> None:
    """images/<class>/<index>.png (index within the class) and labels.csv (file, label)."""
    counts: dict[int, int] = {}
    with (out / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "label"])
        for image, label in zip(pixels, labels.tolist(), strict=True):
            index = counts[label] = counts.get(label, -1) + 1
            relative = Path("images") / f"{label:03d}" / f"{index:05d}.png"
            if index == 0:  # the first image of its class
                (out / relative).parent.mkdir(parents=True, exist_ok=True)
            array = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
            Image.fromarray(array).save(out / relative)
            writer.writerow([relative.as_posix(), label])


def write_pfl_folder(
    pixels: npt.NDArray[np.uint8], labels: torch.Tensor, num_classes: int, seed: int, out: Path
) -> None:
    """The same images as one PFLlib client, shuffled and split 75/25 into train and test."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    cut = int(len(order) * TRAIN_FRACTION)
    x, y = normalise_uint8(pixels[order.numpy()]), labels[order]
    client = ClientData(0, x[:cut], y[:cut], x[cut:], y[cut:])
    shape = (int(x.shape[1]), int(x.shape[2]), int(x.shape[3]))
    stats = compute_statistics("synthetic", num_classes, shape, [client])
    save_pfl_folder(FederatedDataset("synthetic", num_classes, shape, [client], stats), out)


def metadata(source: SynthesisSource, options: SyntheticOptions, count: int) -> dict[str, Any]:
    return {
        "source": source.origin,
        "algorithm": source.algorithm,
        "rounds": source.rounds,
        "generator": options.generator or source.generator,
        "num_classes": int(source.class_latents.shape[0]),
        "image_shape": list(source.image_shape),
        "images": count,
        "options": options.model_dump(),
        "privacy": source.privacy,
        "privacy_statement": describe_privacy(source.privacy),
    }


def write_synthetic_dataset(
    source: SynthesisSource, options: SyntheticOptions, out: Path, progress: bool = True
) -> dict[str, Any]:
    """Generate and write the dataset under `out` (which must be empty or missing); returns its metadata."""
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} is not empty: choose a new folder for the synthetic dataset")
    pixels, labels = generate_pixels(source, options, progress)
    out.mkdir(parents=True, exist_ok=True)
    write_image_folder(pixels, labels, out)
    num_classes = int(source.class_latents.shape[0])
    write_pfl_folder(pixels, labels, num_classes, options.seed, out / "pfl")
    info = metadata(source, options, len(labels))
    (out / "metadata.json").write_text(json.dumps(info, indent=2) + "\n")
    (out / "README.md").write_text(readme_text(info))
    write_preview(pixels, labels, num_classes, out / "preview.png")
    return info


def write_preview(pixels: npt.NDArray[np.uint8], labels: torch.Tensor, num_classes: int, path: Path) -> None:
    """Up to 8 images of each class, one class per row (every class has the same number of images)."""
    from fedloom.generation.grid import save_image_grid

    picked = [np.flatnonzero(labels.numpy() == c)[:8] for c in range(num_classes)]
    images = torch.from_numpy(pixels[np.concatenate(picked)]).float() / 255
    save_image_grid(images, path, nrow=len(picked[0]), scale=2)
