"""Server half of Local: only counts rounds."""

from __future__ import annotations

from collections.abc import Sequence

from fedloom.algorithms.base import ServerEnv
from fedloom.algorithms.local.config import LocalConfig
from fedloom.wire import ClientUpdate, GlobalPayload


class LocalServer:
    def __init__(self, config: LocalConfig) -> None:
        self.config = config

    def init(self, env: ServerEnv) -> int:
        return 0

    def bootstrap(self, state: int) -> GlobalPayload:
        return GlobalPayload(round=state)

    def broadcast(self, state: int) -> GlobalPayload:
        return GlobalPayload(round=state)

    def aggregate(self, state: int, updates: Sequence[ClientUpdate]) -> int:
        return state + 1
