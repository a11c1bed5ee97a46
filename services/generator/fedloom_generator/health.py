"""Readiness: the generator is loaded and, when the worker is configured, its stores answer and it runs."""

from __future__ import annotations

import logging
from typing import Protocol

from starlette.datastructures import State

from fedloom.wire.generation import Readiness

log = logging.getLogger("fedloom.generator")


class Pingable(Protocol):
    def ping(self) -> bool: ...


def readiness(state: State) -> Readiness:
    """Check what the app state holds; a store whose ping raises counts as unreachable."""
    checks = {"generator": getattr(state, "engine", None) is not None}
    stores = getattr(state, "stores", None)
    if stores is not None:
        checks["redis"] = _ping(stores.state, "redis")
        checks["artifacts"] = _ping(stores.artifacts, "artifacts")
        worker = getattr(state, "worker", None)
        checks["worker"] = worker is not None and worker.alive
    return Readiness(ready=all(checks.values()), checks=checks)


def _ping(store: Pingable, name: str) -> bool:
    try:
        return bool(store.ping())
    except Exception as exc:
        log.warning("readiness: %s ping failed: %s", name, exc)
        return False
