"""The server half with the federation's rule for a generator that stays unreachable past its retry budget.

`on_generator_failure="fail"`: the round is marked failed with the reason and the error ends the
federation (status "failed", its `error` says why). `"proceed"`: the state is rolled back to before
the aggregation that could not finish and the round is published without new knowledge (the server
half aggregates no uploads, so FedKTL keeps its previous images); the round's note says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fedloom.algorithms.base import ServerAlgorithm, ServerEnv
from fedloom.wire import ClientUpdate, GlobalPayload
from fedloom_aggregator.generator_client import GeneratorUnavailable
from fedloom_aggregator.server_state import capture, restore
from fedloom_aggregator.transport import ServiceTransport

log = logging.getLogger("fedloom.aggregator")


@dataclass
class GeneratorFallback:
    inner: ServerAlgorithm[Any]
    transport: ServiceTransport
    proceed: bool

    def init(self, env: ServerEnv) -> Any:
        return self.inner.init(env)

    def bootstrap(self, state: Any) -> GlobalPayload:
        return self.inner.bootstrap(state)

    def broadcast(self, state: Any) -> GlobalPayload:
        return self.inner.broadcast(state)

    def aggregate(self, state: Any, updates: Sequence[ClientUpdate]) -> Any:
        saved = capture(state) if self.proceed else None
        try:
            return self.inner.aggregate(state, updates)
        except GeneratorUnavailable as exc:
            fid, round_, book = self.transport.fid, self.transport.aggregating_round, self.transport.book
            if saved is None:
                book.note(fid, round_, f"failed: {exc}")
                book.set_phase(fid, round_, "failed")
                raise
            note = f"generator unavailable, published without new images ({len(updates)} uploads not aggregated): {exc}"
            log.warning("federation %s round %d: %s", fid, round_, note)
            book.note(fid, round_, note)
            return self.inner.aggregate(restore(state, *saved), [])
