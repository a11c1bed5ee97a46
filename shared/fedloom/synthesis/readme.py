"""The README and privacy statement a synthetic dataset carries."""

from __future__ import annotations

from typing import Any


def describe_privacy(privacy: dict[str, Any] | None) -> str:
    """One paragraph: the (epsilon, delta) the dataset inherits from the uploads, or that it has none."""
    if privacy is None:
        return (
            "No differential privacy: the federation ran without privacy settings, so these images carry no "
            "(epsilon, delta) guarantee; they derive from the clients' exact class prototypes."
        )
    spent, delta = privacy.get("epsilon_spent_max", 0.0), privacy.get("delta")
    return (
        f"(epsilon = {spent:.4g}, delta = {delta:g}) per client: the images are computed from the server's state "
        "only, which is post-processing of the clients' differentially private uploads, so every client's "
        f"guarantee carries over unchanged (the largest epsilon any client spent; noise multiplier "
        f"{privacy.get('noise_multiplier', float('nan')):.4g}, clip {privacy.get('clip')}). The guarantee covers "
        "the uploads as released, against anyone who cannot regenerate the noise (deployed agents draw it from a "
        "secret seed; simulations and FEDLOOM_PRIVACY_NOISE=seeded runs from the run's seed); see the FedLoom "
        "README, 'Differentially private uploads', for what else it does not cover."
    )


def readme_text(info: dict[str, Any]) -> str:
    options = info["options"]
    c, h, w = info["image_shape"]
    return f"""# Synthetic dataset from a FedLoom federation

- Source: {info["source"]} ({info["algorithm"]}, {info["rounds"]} rounds), generator `{info["generator"]}`.
- {info["images"]} images, {options["per_class"]} per class, {info["num_classes"]} classes, {c}x{h}x{w} PNG.
- Latents: each class's server latent w_c, perturbed as w_c + {options["strength"]} (omega - mean omega) with
  omega drawn from the generator's prior (seed {options["seed"]}).

## Privacy

{info["privacy_statement"]}

## Layout

- `images/<class>/<index>.png` and `labels.csv` (`file,label`): an image folder (`fedloom simulate --dataset
  folder:images` reads it; labels are the folder names' order, which is the class index).
- `pfl/`: the same images as one PFLlib/HtFLlib client (`train/0.npz`, `test/0.npz`, 75/25 split, key `data`
  holding `x` float32 [n, c, h, w] in [-1, 1] and `y` int64) plus `config.json`.
- `metadata.json`: everything above as JSON; `preview.png`: up to 8 images per class, one class per row.
"""
