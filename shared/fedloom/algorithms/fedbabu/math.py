"""FedBABU math (Oh et al., "FedBABU: Toward Enhanced Representation for Federated Image Classification",
ICLR 2022), pure functions.

During federated training only the body (the base) learns; the head keeps its random initialisation,
the same on every client, and is fine-tuned with the body after training. The body's update is plain
cross-entropy through that fixed head.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def frozen_head_logits(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Logits of the fixed (never updated) head: gradients reach the features, never the head's parameters."""
    return F.linear(features, weight.detach(), bias.detach())
