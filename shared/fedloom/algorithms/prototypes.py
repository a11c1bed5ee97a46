"""Shared prototype plumbing for prototype-based algorithms (FedProto, FedTGP, FedKTL).

On the wire a set of class prototypes is `classes` int64 [n] plus `prototypes` float32 [n, D]; a private upload
adds `counts` float32 [n], the noisy per-class sample counts of the release (`fedloom.privacy.mechanism`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from fedloom.errors import WireError
from fedloom.wire import ClientUpdate

CLASSES, PROTOTYPES, COUNTS = "classes", "prototypes", "counts"


def class_sums(values: torch.Tensor, labels: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-class sums [C, D] and counts [C] of the rows of `values`."""
    sums = torch.zeros(num_classes, values.shape[1], dtype=values.dtype, device=values.device)
    sums.index_add_(0, labels, values)
    counts = torch.bincount(labels, minlength=num_classes)
    return sums, counts


def present_means(sums: torch.Tensor, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(classes with a non-zero count [n], their mean rows [n, D]) from per-class sums and counts."""
    present = torch.nonzero(counts, as_tuple=False).flatten()
    return present, sums[present] / counts[present].unsqueeze(1).to(sums.dtype)


def class_means(values: torch.Tensor, labels: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(present classes [n], their mean rows [n, D]) for the classes that occur in `labels`."""
    return present_means(*class_sums(values, labels, num_classes))


def pack(classes: torch.Tensor, prototypes: torch.Tensor, normalise: bool = False) -> dict[str, torch.Tensor]:
    """The wire form; `normalise` scales every prototype to unit L2 norm first."""
    rows = F.normalize(prototypes, dim=1) if normalise else prototypes
    return {CLASSES: classes.to(torch.int64).cpu(), PROTOTYPES: rows.detach().float().cpu()}


def unpack(tensors: dict[str, torch.Tensor], num_classes: int, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Validated (classes, prototypes) from a message; raises WireError on shape or class errors."""
    if CLASSES not in tensors or PROTOTYPES not in tensors:
        raise WireError(f"prototype message needs '{CLASSES}' and '{PROTOTYPES}'")
    classes, protos = tensors[CLASSES], tensors[PROTOTYPES]
    if classes.dtype != torch.int64 or classes.dim() != 1:
        raise WireError("'classes' must be a 1-d int64 tensor")
    if protos.dtype != torch.float32 or tuple(protos.shape) != (classes.numel(), dim):
        raise WireError(f"'prototypes' must be float32 [{classes.numel()}, {dim}], got {tuple(protos.shape)}")
    ids = classes.tolist()  # at most C ids: plain Python beats three tensor reductions (on every upload)
    if ids and (min(ids) < 0 or max(ids) >= num_classes):
        raise WireError(f"class ids must lie in 0..{num_classes - 1}")
    if len(set(ids)) != len(ids):
        raise WireError("class ids must not repeat")
    if not torch.isfinite(protos).all():
        raise WireError("prototypes must be finite")
    check_counts(tensors, classes.numel())
    return classes, protos


def check_counts(tensors: dict[str, torch.Tensor], n: int) -> None:
    """WireError unless the optional `counts` is float32 [n], finite and positive."""
    counts = tensors.get(COUNTS)
    if counts is None:
        return
    if counts.dtype != torch.float32 or tuple(counts.shape) != (n,):
        raise WireError(f"'{COUNTS}' must be float32 [{n}], got {counts.dtype} {tuple(counts.shape)}")
    if not (torch.isfinite(counts).all() and (counts > 0).all()):
        raise WireError(f"'{COUNTS}' must be finite and positive")


def stack_counts(updates: Sequence[ClientUpdate]) -> torch.Tensor | None:
    """The noisy counts of every uploaded (class, prototype) pair in `stack_uploads`' order, or None unless every
    upload carries them."""
    if not updates or any(COUNTS not in u.tensors for u in updates):
        return None
    return torch.cat([u.tensors[COUNTS] for u in updates])


def stack_uploads(updates: Sequence[ClientUpdate], num_classes: int, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All uploaded (class, prototype) pairs of a round: labels [N], prototypes [N, D]."""
    pairs = [unpack(u.tensors, num_classes, dim) for u in updates]
    if not pairs:
        return torch.empty(0, dtype=torch.int64), torch.empty(0, dim)
    return torch.cat([c for c, _ in pairs]), torch.cat([p for _, p in pairs])


def dense(classes: torch.Tensor, prototypes: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Scatter sparse prototypes into a dense [C, D] table plus a presence mask [C]."""
    table = torch.zeros(num_classes, prototypes.shape[1], dtype=prototypes.dtype)
    mask = torch.zeros(num_classes, dtype=torch.bool)
    table[classes] = prototypes
    mask[classes] = True
    return table, mask


def check_feature_prototypes(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """An upload of class prototypes in feature space: [n, K] (FedProto, FedTGP)."""
    unpack(update.tensors, num_classes, feature_dim)


def check_etf_prototypes(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    """An upload of class prototypes in ETF space: [n, C] (FedKTL)."""
    unpack(update.tensors, num_classes, num_classes)


def check_no_tensors(update: ClientUpdate, num_classes: int, feature_dim: int) -> None:
    if update.tensors:
        raise WireError("this algorithm uploads no tensors")
