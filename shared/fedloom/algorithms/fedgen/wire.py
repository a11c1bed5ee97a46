"""FedGen's payloads: the shared head, the generator's parameters and the per-class train counts.

Upload: `head.*` plus `label_counts` int64 [C]. Download: `head.*`, and once trained, `generator.*`
plus the federation's `label_counts` (clients draw generated labels in proportion to them).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from fedloom.algorithms.shared_head import HEAD, check_shared_head, linear_head_shapes
from fedloom.errors import WireError
from fedloom.wire import ClientUpdate

GENERATOR, COUNTS = "generator.", "label_counts"


def check_counts(tensors: Mapping[str, torch.Tensor], num_classes: int) -> torch.Tensor:
    """The validated `label_counts` tensor: int64 [C], non-negative."""
    counts = tensors.get(COUNTS)
    if counts is None or counts.dtype != torch.int64 or tuple(counts.shape) != (num_classes,):
        raise WireError(f"'{COUNTS}' must be an int64 tensor of shape [{num_classes}]")
    if bool((counts < 0).any()):
        raise WireError(f"'{COUNTS}' must not be negative")
    return counts


def check_fedgen_upload(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """A FedGen upload: one head of the shared shape and the client's train counts per class, nothing else."""
    expected = linear_head_shapes(num_classes, feature_dim)
    check_shared_head(update.tensors, expected)
    check_counts(update.tensors, num_classes)
    extra = {name for name in update.tensors if not name.startswith(HEAD) and name != COUNTS}
    if extra:
        raise WireError(f"unexpected tensors in a FedGen upload: {sorted(extra)[:5]}")
