"""FedPer math (Arivazhagan et al., "Federated Learning with Personalization Layers", 2019), pure functions.

A client's parameters are W = (W_B, W_P): base layers W_B, averaged across clients like FedAvg's model
(`fedavg.math.fedavg_average`), and personalisation layers W_P (here: the head), which never leave it.
"""

from __future__ import annotations

from torch import Tensor

BASE, HEAD = "base.", "head."


def split_base_head(tensors: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """(W_B, W_P): the `base.*` tensors and the `head.*` tensors of one model; ValueError for any other name."""
    other = [name for name in tensors if not name.startswith((BASE, HEAD))]
    if other:
        raise ValueError(f"neither base nor head parameters: {other[:5]}")
    base = {name: t for name, t in tensors.items() if name.startswith(BASE)}
    head = {name: t for name, t in tensors.items() if name.startswith(HEAD)}
    return base, head
