"""The StyleGAN3 Generator, built from NVIDIA's constructor kwargs (stylegan3.md sections 1.3 and 3)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from fedloom.generation.stylegan3.errors import NetworkFormatError
from fedloom.generation.stylegan3.kwargs_bounds import check_init_kwargs
from fedloom.generation.stylegan3.mapping import MappingNetwork
from fedloom.generation.stylegan3.schedule import SynthesisConfig
from fedloom.generation.stylegan3.synthesis import SynthesisNetwork

_TOP_KWARGS = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")
_MAPPING_KWARGS = ("num_layers", "lr_multiplier", "w_avg_beta")
_SYNTHESIS_KWARGS = tuple(
    f.name for f in dataclasses.fields(SynthesisConfig) if f.name not in ("w_dim", "img_resolution", "img_channels")
)


class Generator(nn.Module):
    """NVIDIA-compatible StyleGAN3 generator: `mapping(z, c, ...)` -> ws, `synthesis(ws, ...)` -> image.

    Submodules are registered `synthesis` first, then `mapping`, as in NVIDIA's state_dict (section 1.4).
    Construct it with the exact `init_kwargs` stored in a network file (section 1.3).
    """

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        mapping_kwargs: Mapping[str, Any] | None = None,
        **synthesis_kwargs: Any,
    ) -> None:
        super().__init__()
        mapping_kwargs = dict(mapping_kwargs or {})
        _check_names("mapping_kwargs", mapping_kwargs, _MAPPING_KWARGS)
        _check_names("Generator kwargs", synthesis_kwargs, _SYNTHESIS_KWARGS)
        self.z_dim, self.c_dim, self.w_dim = int(z_dim), int(c_dim), int(w_dim)
        self.img_resolution, self.img_channels = int(img_resolution), int(img_channels)
        cfg = SynthesisConfig(w_dim=self.w_dim, img_resolution=self.img_resolution, img_channels=self.img_channels)
        self.synthesis = SynthesisNetwork(dataclasses.replace(cfg, **synthesis_kwargs))
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(self.z_dim, self.c_dim, self.w_dim, self.num_ws, **mapping_kwargs)

    @classmethod
    def from_init_kwargs(cls, init_kwargs: Mapping[str, Any]) -> Generator:
        """Build from a network file's `init_kwargs`; unknown or missing names raise NetworkFormatError."""
        missing = [name for name in _TOP_KWARGS if name not in init_kwargs]
        if missing:
            raise NetworkFormatError(f"init_kwargs lacks {missing}")
        _check_names("init_kwargs", init_kwargs, (*_TOP_KWARGS, "mapping_kwargs", *_SYNTHESIS_KWARGS))
        check_init_kwargs(init_kwargs)  # before the constructor allocates anything
        try:
            return cls(**init_kwargs)
        except NetworkFormatError:
            raise
        except Exception as exc:  # whatever the constructor raises on a combination it cannot build
            raise NetworkFormatError(f"cannot build a StyleGAN3 generator from {dict(init_kwargs)}: {exc}") from exc

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        update_emas: bool = False,
        noise_mode: str = "const",
        force_fp32: bool | None = None,
    ) -> torch.Tensor:
        """`synthesis(mapping(z, c, ...))`, raw output range (about [-1, 1])."""
        ws = self.mapping(z, c, truncation_psi, truncation_cutoff, update_emas=update_emas)
        return self.synthesis(ws, noise_mode=noise_mode, force_fp32=force_fp32, update_emas=update_emas)


def _check_names(what: str, kwargs: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise NetworkFormatError(f"{what}: unknown StyleGAN3 argument(s) {unknown}")
