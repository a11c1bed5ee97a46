"""Train the built-in generator as a GAN on CPU: `python -m fedloom.generation.builtin.train --out DIR ...`.

Loss: non-saturating logistic GAN loss; the discriminator is spectrally normalised (cheap Lipschitz
control, no second-order R1 pass on a CPU budget) and sees a minibatch-stddev feature against collapse.
The generator also minimises a mode-seeking term, |z1 - z2| / |G(z1) - G(z2)| over pairs of the batch
(Mao et al., CVPR 2019): without it, a short CPU run tends to draw one layout in many colours.
The shipped weights are an exponential moving average of the generator's (smoother, cleaner samples).

Reproducibility: every random draw (initialisation, crops, z) comes from `seed`, so the trajectory is a
function of the seed alone. `--steps` fixes the end point; `--minutes` is a wall-clock budget that stops
training early at a step boundary. The step count reached is recorded in the JSON metadata, so passing it
back as `--steps` (with a generous `--minutes`) reproduces the same weights on the same software stack.
"""

from __future__ import annotations

import argparse
import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from fedloom.generation.builtin import data
from fedloom.generation.builtin.discriminator import Discriminator
from fedloom.generation.builtin.generator import BuiltinGenerator
from fedloom.generation.builtin.model import BuiltinConfig
from fedloom.generation.builtin.weights import save_generator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """Everything that defines a training run besides the output folder."""

    minutes: float
    seed: int
    steps: int | None = None
    batch: int = 32
    lr: float = 2e-4
    mapping_lr_scale: float = 0.1
    betas: tuple[float, float] = (0.5, 0.99)
    diversity: float = 0.5  # weight of the mode-seeking term
    ema_beta: float = 0.998
    bank_size: int = 50_000
    config: BuiltinConfig = field(default_factory=BuiltinConfig)
    d_channels: tuple[int, ...] = (24, 48, 96, 192)
    threads: int = 1  # one thread: same numbers on any machine, and no OpenMP stalls when cores are busy


@dataclass
class _Trainer:
    generator: BuiltinGenerator
    ema: BuiltinGenerator
    discriminator: Discriminator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    diversity: float

    @classmethod
    def create(cls, s: TrainSettings) -> _Trainer:
        generator = BuiltinGenerator(s.config)
        discriminator = Discriminator(s.d_channels)
        groups = [
            {"params": generator.mapping.parameters(), "lr": s.lr * s.mapping_lr_scale},
            {"params": generator.synthesis.parameters(), "lr": s.lr},
        ]
        opt_g = torch.optim.Adam(groups, lr=s.lr, betas=s.betas)
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=s.lr, betas=s.betas)
        ema = copy.deepcopy(generator).requires_grad_(False).eval()
        return cls(generator, ema, discriminator, opt_g, opt_d, s.diversity)

    def step(self, real: torch.Tensor, z: torch.Tensor) -> tuple[float, float]:
        """One discriminator and one generator update on the same fake batch; returns (loss_d, loss_g)."""
        fake = self.generator(z)
        self.discriminator.requires_grad_(True)
        loss_d = F.softplus(self.discriminator(fake.detach())).mean() + F.softplus(-self.discriminator(real)).mean()
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        self.discriminator.requires_grad_(False)
        loss_g = F.softplus(-self.discriminator(fake)).mean() + self.diversity * _mode_seeking(fake, z)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        return loss_d.item(), loss_g.item()

    @torch.no_grad()
    def update_ema(self, step: int, beta_max: float) -> None:
        """EMA of the generator's weights; its horizon ramps up over the first steps."""
        beta = min(beta_max, (1.0 + step) / (10.0 + step))
        for ema_t, t in zip(self.ema.state_dict().values(), self.generator.state_dict().values(), strict=True):
            ema_t.lerp_(t, 1.0 - beta)


def _mode_seeking(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mean over pairs (first half, second half) of latent distance / image distance (both mean L1)."""
    half = fake.shape[0] // 2
    if half == 0:
        return fake.new_zeros(())
    d_image = (fake[:half] - fake[half : 2 * half]).abs().flatten(1).mean(dim=1)
    d_z = (z[:half] - z[half : 2 * half]).abs().mean(dim=1)
    return (d_z / (d_image + 1e-5)).mean()


def train_builtin(
    out_dir: Path, minutes: float, seed: int, steps: int | None = None, *, progress: bool = True, **options: Any
) -> Path:
    """Train a generator and write `<out_dir>/builtin<R>.safetensors` + `.json`; returns the weights path.

    Stops after `steps` steps or `minutes` of wall time, whichever comes first (at least one step).
    `options` are further `TrainSettings` fields (batch, lr, bank_size, config, ...). Needs scikit-image.
    """
    settings = TrainSettings(minutes=minutes, seed=seed, steps=steps, **options)
    if minutes <= 0 or (steps is not None and steps < 1):
        raise ValueError(f"minutes must be > 0 and steps >= 1, got minutes={minutes}, steps={steps}")
    started, threads = time.monotonic(), torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            trainer = _Trainer.create(settings)
            rng = torch.Generator().manual_seed(seed)
            bank = data.crop_bank(settings.bank_size, settings.config.resolution, rng)
            done = _run(trainer, bank, rng, settings, started + 60.0 * minutes, progress)
    finally:
        torch.set_num_threads(threads)
    elapsed = (time.monotonic() - started) / 60.0
    log.info("built-in generator: %d steps in %.1f min", done, elapsed)
    out = Path(out_dir) / f"builtin{settings.config.resolution}.safetensors"
    return save_generator(trainer.ema, out, _metadata(settings, done, elapsed))


def _run(
    trainer: _Trainer, bank: torch.Tensor, rng: torch.Generator, s: TrainSettings, deadline: float, progress: bool
) -> int:
    step = 0
    with tqdm(total=s.steps, desc="builtin generator", unit="step", disable=not progress) as bar:
        while step < 1 or ((s.steps is None or step < s.steps) and time.monotonic() < deadline):
            real = data.real_batches(bank, s.batch, rng)
            z = torch.randn(s.batch, s.config.z_dim, generator=rng)
            loss_d, loss_g = trainer.step(real, z)
            trainer.update_ema(step, s.ema_beta)
            step += 1
            bar.update()
            if step % 25 == 0:
                bar.set_postfix(loss_d=f"{loss_d:.3f}", loss_g=f"{loss_g:.3f}")
    if s.steps is not None and step < s.steps:
        log.warning("time budget ran out after %d of %d steps", step, s.steps)
    return step


def _metadata(s: TrainSettings, steps: int, minutes: float) -> dict[str, Any]:
    return {
        "method": "GAN: non-saturating loss + mode-seeking term, spectral-norm discriminator, EMA generator",
        "dataset": data.DATASET_NAME,
        "license": data.LICENSE,
        "crops": s.bank_size,
        "steps": steps,
        "batch": s.batch,
        "images_seen": steps * s.batch,
        "seed": s.seed,
        "minutes": round(minutes, 2),
        "lr": s.lr,
        "mapping_lr_scale": s.mapping_lr_scale,
        "diversity": s.diversity,
        "betas": list(s.betas),
        "ema_beta": s.ema_beta,
        "d_channels": list(s.d_channels),
        "threads": s.threads,
        "torch": torch.__version__,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fedloom.generation.builtin.train", description="Train FedLoom's built-in image generator."
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for builtin32.safetensors/.json")
    parser.add_argument("--minutes", type=float, default=20.0, help="wall-clock budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--grid", type=Path, default=None, help="also write an 8x8 sample grid PNG here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    path = train_builtin(args.out, args.minutes, args.seed, args.steps, batch=args.batch)
    log.info("wrote %s", path)
    if args.grid is not None:
        from fedloom.generation.builtin.preview import write_preview

        log.info("wrote %s", write_preview(path, args.grid))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
