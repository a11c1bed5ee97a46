"""Many latents per class around each class latent, drawn with the generator's prior (pure given `prior`).

w_i = w_c + strength * (omega_i - mean(omega)), omega_i ~ the generator's prior: each image takes the class
latent and moves it along the directions the generator itself samples, so the perturbed latents stay where
the generator has seen latents (strength 0 repeats w_c, strength 1 adds a whole prior sample's spread).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

PriorSampler = Callable[[int, torch.Generator], torch.Tensor]
"""`ImageGenerator.sample_latents`: n latents [n, w_dim] from the prior, drawn from the given RNG."""

PRIOR_MEAN_SAMPLES = 4096


def perturbed_latents(
    class_latents: torch.Tensor, per_class: int, strength: float, prior: PriorSampler, rng: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(latents [C * per_class, w_dim], labels [C * per_class]) for class latents [C, w_dim], class by class."""
    if class_latents.ndim != 2 or per_class < 1 or strength < 0:
        raise ValueError(
            f"need class latents [C, w_dim], per_class >= 1 and strength >= 0; got {list(class_latents.shape)}, "
            f"{per_class}, {strength}"
        )
    classes, _ = class_latents.shape
    mean = prior(PRIOR_MEAN_SAMPLES, rng).float().mean(dim=0)
    omega = prior(classes * per_class, rng).float()
    centres = class_latents.float().to(omega.device).repeat_interleave(per_class, dim=0)
    labels = torch.arange(classes).repeat_interleave(per_class)
    return centres + strength * (omega - mean.to(omega.device)), labels
