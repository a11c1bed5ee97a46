"""FD / FedDistill math (Jeong et al., 2018; HtFLlib's FD), pure functions.

Glossary: z = logits [B, C]; G = global per-class mean logits [C, C]; mask = which classes have a row.
The distance is the MSE of the papers that FedTGP and FedKTL compare with (algorithms.md 1.3), not the
later cross-entropy forms (the newest one diverges).
"""

from __future__ import annotations

import torch

from fedloom.algorithms.fedproto.math import prototype_regulariser


def logit_distillation(
    logits: torch.Tensor, labels: torch.Tensor, table: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """D(z, G[y]) = sum_i mask[y_i] ||z_i - G[y_i]||^2 / (B C): MSE to the global logit of each sample's class.

    Samples of classes the server has no row for count as zero (HtFLlib used the sample's own detached
    logit as the target there, which gives zero under MSE).
    """
    return prototype_regulariser(logits, labels, table, mask)
