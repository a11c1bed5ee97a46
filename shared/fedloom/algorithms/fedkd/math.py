"""FedKD math (Wu et al., "Communication-efficient federated learning via knowledge distillation", Nat. Commun.
2022), pure functions: adaptive mutual distillation losses and the SVD compression of the mentee's updates.

Glossary: mentor = the client's own model (logits `out`, features `f`); mentee = the shared model (`out_g`,
`f_g`); `f_g_mapped` = W_h f_g, the mentee's features mapped into the mentor's space.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fedloom.algorithms.fml.math import distillation_kl


def energy_threshold(round_: int, rounds: int, start: float, end: float) -> float:
    """Energy kept by the SVD in round `round_` of `rounds` (paper sec. "dynamic gradient approximation"):

    T = T_start + (round + 1) / R * (T_end - T_start), growing linearly to T_end in the last round (and
    staying there for the package published after it).
    """
    return start + min(round_ + 1, rounds) / rounds * (end - start)


def kept_rank(singular_values: torch.Tensor, energy: float) -> int:
    """The smallest r >= 1 with sum(s[:r]^2) >= energy * sum(s^2); never 0 (HtFLlib's rank-0 trap, 7)."""
    squares = singular_values.double().pow(2)
    cumulative = squares.cumsum(0)
    rank = int((cumulative < energy * cumulative[-1]).sum()) + 1
    return min(max(rank, 1), singular_values.numel())


def svd_factors(matrix: torch.Tensor, energy: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Truncated SVD of a [m, n] matrix keeping `energy` of its squared singular values: U [m, r], S [r], V [r, n].

    Computed from the eigen-decomposition of the smaller Gram matrix (A A^T = U S^2 U^T, then V = S^-1 U^T A),
    some 10x faster than a full SVD of a wide layer; exact up to rounding for the kept (largest) directions.
    Use float64 input.
    """
    if matrix.shape[0] > matrix.shape[1]:
        v_t, s, u_t = svd_factors(matrix.T, energy)
        return u_t.T.contiguous(), s, v_t.T.contiguous()
    eigenvalues, eigenvectors = torch.linalg.eigh(matrix @ matrix.T)
    s = eigenvalues.flip(0).clamp_min(0).sqrt()
    rank = kept_rank(s, energy)
    u, s = eigenvectors.flip(1)[:, :rank].contiguous(), s[:rank].contiguous()
    v = (u.T @ matrix) / s.clamp_min(torch.finfo(matrix.dtype).tiny).unsqueeze(1)
    return u, s, v


def svd_recover(u: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """U diag(S) V, the rank-r approximation."""
    return (u * s.unsqueeze(0)) @ v


def adaptive_losses(
    out: torch.Tensor,
    out_g: torch.Tensor,
    f: torch.Tensor,
    f_g_mapped: torch.Tensor,
    y: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """FedKD eqs. 1-4 (mentor loss, mentee loss), distillation scaled by the detached task losses:

    mentor = CE + KL(p_g || p) / (CE + CE_g) + MSE(f, W_h f_g) / (CE + CE_g)
    mentee = CE_g + KL(p || p_g) / (CE + CE_g) + MSE(f, W_h f_g) / (CE + CE_g)

    Peers' distributions and the scale are detached (HtFLlib let gradients through both, algorithms.md 7).
    """
    ce, ce_g = F.cross_entropy(out, y), F.cross_entropy(out_g, y)
    scale = (ce + ce_g).detach()
    hidden = F.mse_loss(f, f_g_mapped) / scale
    mentor = ce + distillation_kl(out, out_g) / scale + hidden
    mentee = ce_g + distillation_kl(out_g, out) / scale + hidden
    return mentor, mentee
