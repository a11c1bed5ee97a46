"""Errors raised while reading StyleGAN3 network files (stylegan3.md sections 1-2)."""

from __future__ import annotations

from fedloom.errors import FedLoomError


class UnsafePickleError(FedLoomError):
    """A pickle asked for something outside the StyleGAN3 allow-list (stylegan3.md section 2).

    Raised before the refused global is ever called, so nothing from the file has run.
    """


class NetworkFormatError(FedLoomError, ValueError):
    """A network file that is well-formed but not a StyleGAN3 generator we can rebuild.

    Examples: missing `G_ema`, unknown constructor kwargs, state_dict keys or shapes that do not
    match the architecture computed from `init_kwargs` (stylegan3.md sections 1.3, 2 and 3.3).
    """
