"""Central differential privacy of averaged model updates (DP-FedAvg: McMahan et al., ICLR 2018), pure functions.

Each client's update is the difference between the tensors it uploads and the ones it received, clipped to
L2 norm C over all of them together. The server sums the clipped updates, adds N(0, (z C)^2) to every
coordinate of the sum and divides by the number of updates it received (public: who uploaded is visible to
every observer of the round). Replacing one client's update by the zero update (the client with no data)
moves the sum by at most C, so each round is a Gaussian mechanism with noise multiplier z on every client's
whole data set (user-level adjacency). Integer tensors (e.g. BatchNorm's batch counters) are not released:
the server keeps the published values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from fedloom.errors import WireError

TensorMap = Mapping[str, Tensor]


def released_names(published: TensorMap) -> list[str]:
    """The published tensors an update may move: the floating-point ones, in name order."""
    return sorted(name for name, t in published.items() if t.is_floating_point())


def update_of(upload: TensorMap, published: TensorMap) -> dict[str, Tensor]:
    """upload - published for every released name; WireError when the upload is not exactly those tensors."""
    names = released_names(published)
    floats = sorted(name for name, t in upload.items() if t.is_floating_point())
    if floats != names:
        raise WireError(
            f"central DP: the upload must hold the published float tensors {names[:4]}..., got {floats[:4]}..."
        )
    delta = {}
    for name in names:
        if upload[name].shape != published[name].shape:
            raise WireError(
                f"central DP: {name!r} has shape {list(upload[name].shape)}, published {list(published[name].shape)}"
            )
        delta[name] = upload[name].detach().float().cpu() - published[name].detach().float().cpu()
    return delta


def global_norm(tensors: TensorMap) -> float:
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in tensors.values()])))


def clip_update(delta: TensorMap, clip: float) -> dict[str, Tensor]:
    """The update scaled by min(1, C / ||update||_2), the norm taken over all its tensors together; a
    non-finite update (training that diverged) becomes the zero update, which is within the bound too."""
    if not delta:
        return {}
    norm = global_norm(delta)
    if not math.isfinite(norm):
        return {name: torch.zeros_like(t) for name, t in delta.items()}
    scale = min(1.0, clip / max(norm, 1e-12))
    return {name: t * scale for name, t in delta.items()}


def clipped_upload(upload: TensorMap, published: TensorMap, clip: float) -> dict[str, Tensor]:
    """What a client sends under central DP: the published tensors plus its clipped update (integers as published)."""
    delta = clip_update(update_of(upload, published), clip)
    sent = {}
    for name in upload:
        if name not in published:
            raise WireError(f"central DP: {name!r} was not published, so it cannot be uploaded")
        reference = published[name].detach().cpu()
        sent[name] = (reference.float() + delta[name]).to(reference.dtype) if name in delta else reference.clone()
    return sent


def noisy_mean(
    uploads: Sequence[TensorMap], published: TensorMap, clip: float, noise_multiplier: float, rng: torch.Generator
) -> dict[str, Tensor]:
    """published + (sum_i clip(update_i) + N(0, (z C)^2)) / n over the n uploads (the server's DP-FedAvg step)."""
    if not uploads:
        raise ValueError("nothing to average")
    names = released_names(published)
    total = {name: torch.zeros(published[name].shape) for name in names}
    for upload in uploads:
        for name, t in clip_update(update_of(upload, published), clip).items():
            total[name] += t
    std = noise_multiplier * clip
    mean = {name: t.clone() for name, t in published.items()}
    for name in names:
        noise = torch.randn(total[name].shape, generator=rng) * std
        mean[name] = (published[name].float().cpu() + (total[name] + noise) / len(uploads)).to(published[name].dtype)
    return mean
