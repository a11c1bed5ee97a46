"""Upload intake: validate a client's upload, then keep it for the round worker in one atomic store step.

Most uploads are handled on the event loop: once the federation's config and the round's selection have
been read (once per process and per round), a small upload needs no blocking call, and the save is
awaited. Measured under `make bench-load`, a worker-thread hop per upload cost about as much CPU as the
rest of the upload (the loop and the thread contend for the GIL). Uploads that need a blocking read or
write first (the first of a round, a large body bound for the artifact store, algorithms whose checks
read the federation record) go to a worker thread and take the same steps there.
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi.concurrency import run_in_threadpool

from fedloom.algorithms import get_algorithm, make_config
from fedloom.stores.protocol import ArtifactStore, GuardedWrite
from fedloom.wire import ClientUpdate, decode
from fedloom.wire.codec import CodecLimits
from fedloom.wire.control import FederationConfig
from fedloom_aggregator.envs import federation_env
from fedloom_aggregator.errors import Conflict, Forbidden
from fedloom_aggregator.rounds import RoundBook
from fedloom_aggregator.transport import stored_upload, upload_key


class Federations(Protocol):
    """What the intake reads of the coordinator: federation configs and records, the round book, the stores."""

    configs: dict[str, FederationConfig]
    book: RoundBook
    artifacts: ArtifactStore
    inline_bytes: int

    def config(self, fid: str) -> FederationConfig: ...

    def load(self, fid: str) -> dict[str, Any]: ...


LOOP_BODY_BYTES = 256 * 1024
"""Larger uploads are decoded in a worker thread, so one big body never holds up the loop."""


def upload_limits(config: FederationConfig, size: int) -> CodecLimits:
    """Decoding bounds for one upload of this federation. Prototype, logit and head uploads are a few tensors;
    an algorithm that uploads a model (it checks uploads against the federation's architecture) sends one
    tensor per parameter, a few hundred; arrays in an upload are tensor shapes."""
    shares_model = get_algorithm(config.algorithm).check_update_env is not None
    fields = 4096 if shares_model else 64
    return CodecLimits(
        max_message_bytes=size, max_map_len=fields, max_array_len=64, max_str_len=1024, max_containers=4 * fields
    )


def require_collecting(fid: str, round_: int, phase: str | None) -> None:
    if phase != "collecting":
        raise Conflict(f"round {round_} of federation {fid} is not collecting uploads (phase: {phase})")


def settle(fid: str, round_: int, write: GuardedWrite) -> bool:
    """The save's outcome: True for a new upload, False for a repeat, 409 if the round was not collecting."""
    require_collecting(fid, round_, write.guard_value.decode() if write.guard_value is not None else None)
    return write.stored


class UploadIntake:
    def __init__(self, coordinator: Federations) -> None:
        self.coordinator = coordinator
        self.book = coordinator.book
        self.selections: dict[str, tuple[int, frozenset[int]]] = {}  # latest round's clients, fixed once open
        self.closed: set[tuple[str, int]] = set()  # rounds an upload found past collecting (they never reopen)

    async def accept(self, fid: str, round_: int, client_id: int, body: bytes) -> bool:
        """Validate an upload and keep it for the round worker; False if it repeats an earlier one."""
        if not self.ready_on_loop(fid, round_, client_id, len(body)):
            return await run_in_threadpool(self.accept_blocking, fid, round_, client_id, body)
        self.check(fid, round_, client_id, body)
        return self.settle(fid, round_, await self.book.save_upload_async(fid, round_, client_id, body))

    def accept_blocking(self, fid: str, round_: int, client_id: int, body: bytes) -> bool:
        self.check(fid, round_, client_id, body)
        if len(body) > self.coordinator.inline_bytes:  # not into the artifact store for a round that is closed
            require_collecting(fid, round_, self.book.phase(fid, round_))
        artifacts, inline = self.coordinator.artifacts, self.coordinator.inline_bytes
        stored = stored_upload(body, artifacts, upload_key(fid, round_, client_id, body), inline)
        return self.settle(fid, round_, self.book.save_upload(fid, round_, client_id, stored))

    def ready_on_loop(self, fid: str, round_: int, client_id: int, size: int) -> bool:
        """Everything the checks read is cached, and the body is stored inline and small."""
        config = self.coordinator.configs.get(fid)
        selection = self.selections.get(fid)
        return (
            config is not None
            and get_algorithm(config.algorithm).check_update_env is None
            and selection is not None
            and selection[0] == round_
            and client_id in selection[1]
            and size <= min(LOOP_BODY_BYTES, self.coordinator.inline_bytes)
        )

    def check(self, fid: str, round_: int, client_id: int, body: bytes) -> None:
        """400/403/404/409 for an upload that cannot count. The cheap checks (federation, selection, a round
        known to be closed) come before the body is decoded, within limits set by the federation's shapes;
        the round's phase is checked again, atomically, when saving."""
        config = self.coordinator.config(fid)  # 404 for an unknown federation
        if (fid, round_) in self.closed:
            raise Conflict(f"round {round_} of federation {fid} is not collecting uploads")
        if client_id not in self.selected(fid, round_):
            require_collecting(fid, round_, self.book.phase(fid, round_))
            raise Forbidden(f"client {client_id} was not selected for round {round_}")
        update = decode(body, ClientUpdate, upload_limits(config, len(body)))
        if update.client_id != client_id:
            raise Forbidden(f"client {client_id} cannot upload as client {update.client_id}")
        if update.round != round_:
            raise Conflict(f"the body is for round {update.round}, the URL for round {round_}")
        self.check_update(fid, update)

    def settle(self, fid: str, round_: int, write: GuardedWrite) -> bool:
        """The save's outcome; a round found closed is remembered, so later uploads to it are refused undecoded."""
        try:
            return settle(fid, round_, write)
        except Conflict:
            self.closed.add((fid, round_))
            raise

    def selected(self, fid: str, round_: int) -> frozenset[int]:
        """The clients selected for a round; the newest round's set is kept (one per federation)."""
        cached = self.selections.get(fid)
        if cached is not None and cached[0] == round_:
            return cached[1]
        chosen = frozenset(self.book.selected(fid, round_))
        if chosen and (cached is None or round_ > cached[0]):
            self.selections[fid] = (round_, chosen)
        return chosen

    def check_update(self, fid: str, update: ClientUpdate) -> None:
        """The algorithm's checks of an upload (WireError -> 400), with the federation's env where they need it."""
        config = self.coordinator.config(fid)
        spec = get_algorithm(config.algorithm)
        spec.check_update(update, config.num_classes, config.feature_dim)
        if spec.check_update_env is not None:
            env = federation_env(config, self.coordinator.load(fid).get("reference_arch"))
            spec.check_update_env(update, env, make_config(spec, config.options))
