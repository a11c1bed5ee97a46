"""Server half of FML: the meme model of the reference architecture, averaged without weights."""

from __future__ import annotations

from fedloom.algorithms.fml.config import FMLConfig
from fedloom.algorithms.shared_model import SharedModelServer


class FMLServer(SharedModelServer):
    def __init__(self, config: FMLConfig) -> None:
        self.config = config
