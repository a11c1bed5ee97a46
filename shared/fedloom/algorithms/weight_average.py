"""The one weighted parameter average of FedLoom: FedAvg's aggregation, and every model part averaged by weight.

FedAvg (McMahan et al., 2017, Algorithm 1, "ServerUpdate"): w_{t+1} = sum_k (n_k / n) w^k_{t+1}, with n_k the
training samples of client k and n their sum over the uploading clients. The personalised algorithms built on it
(FedPer, FedRep, FedBABU, Ditto, FedALA, FedCP, GPFL, FedDBE) average their shared parts the same way, and
`model_parts.average_parts` (FML, FedKD, LG-FedAvg, ...) calls it too.

Terms are summed in float64 in client order and the result is cast back to the inputs' dtype, so the average
does not depend on how many clients there are beyond float64 rounding and is the same in every process.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def normalised_weights(weights: Sequence[float], count: int) -> list[float]:
    """`weights` divided by their sum (float64); ValueError unless there is one non-negative weight per
    tensor set and their sum is positive."""
    w = torch.tensor([float(v) for v in weights], dtype=torch.float64)
    if w.numel() != count or bool((w < 0).any()) or not bool(torch.isfinite(w).all()) or float(w.sum()) <= 0:
        raise ValueError(f"weights must be {count} non-negative finite numbers, sum > 0; got {list(weights)}")
    normalised: list[float] = (w / w.sum()).tolist()
    return normalised


def check_same_tensors(tensors_per_client: Sequence[dict[str, Tensor]]) -> None:
    """ValueError unless every client holds the names and shapes client 0 holds."""
    first = tensors_per_client[0]
    for index, tensors in enumerate(tensors_per_client[1:], start=1):
        if tensors.keys() != first.keys():
            raise ValueError(f"client {index} holds {sorted(tensors)[:5]}..., client 0 {sorted(first)[:5]}...")
        for name, tensor in tensors.items():
            if tensor.shape != first[name].shape:
                shapes = f"{list(tensor.shape)} at client {index}, {list(first[name].shape)} at client 0"
                raise ValueError(f"{name!r} has shape {shapes}")


def weighted_average(tensors_per_client: Sequence[dict[str, Tensor]], weights: Sequence[float]) -> dict[str, Tensor]:
    """sum_i (w_i / sum_j w_j) * tensors_i[name] for every name (FedAvg's server update, see the module doc).

    Every client must hold the same names with the same shapes (ValueError otherwise); weights need not sum
    to 1 (pass train-sample counts). The result has the first client's dtypes and lives on the CPU.
    """
    if not tensors_per_client:
        raise ValueError("nothing to average")
    share = normalised_weights(weights, len(tensors_per_client))
    check_same_tensors(tensors_per_client)
    average = {}
    for name, reference in tensors_per_client[0].items():
        total = torch.zeros(reference.shape, dtype=torch.float64)
        for index, tensors in enumerate(tensors_per_client):
            total.add_(tensors[name].detach().to("cpu", torch.float64, copy=True).mul_(share[index]))
        average[name] = total.to(reference.dtype)
    return average
