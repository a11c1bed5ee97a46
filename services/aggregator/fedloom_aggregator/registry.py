"""Client registry: one-time enrolment tokens, clients and their hashed API tokens, in the StateStore."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from fedloom.stores.protocol import StateStore
from fedloom.wire.control import ClientInfo, Enrollment, EnrollmentToken, EnrollRequest
from fedloom.wire.routes import key
from fedloom_aggregator.errors import NotFound, Unauthorized
from fedloom_aggregator.security import new_token, same_secret, token_digest

CLIENTS = key("clients")  # hash: client id -> ClientInfo JSON
TOKENS = key("client-tokens")  # hash: token digest -> client id
NEXT_ID = key("client-next-id")
_V = TypeVar("_V")


class ClientRegistry:
    def __init__(self, store: StateStore, shared_enrollment_token: str | None = None) -> None:
        """`shared_enrollment_token`: accepted any number of times (agents deployed by the operator)."""
        self.store = store
        self.shared_enrollment_token = shared_enrollment_token
        self.lock = threading.Lock()  # batch updates of client records against removals (one aggregator process)

    def create_enrollment_token(self, ttl_seconds: int) -> EnrollmentToken:
        token = new_token("enrol")
        self.store.set(key("enrollment", token_digest(token)), b"1", ttl_seconds=ttl_seconds)
        return EnrollmentToken(token=token, expires_at=time.time() + ttl_seconds)

    def enroll(self, request: EnrollRequest) -> Enrollment:
        """Exchange a valid, unused, unexpired enrolment token for a client id and an API token."""
        if not self.valid_enrollment_token(request.enrollment_token):
            raise Unauthorized("enrolment token is unknown, expired or already used")
        client_id = self.store.incr(NEXT_ID) - 1
        api_token = new_token("client")
        info = ClientInfo(
            client_id=client_id, name=request.name, architecture=request.architecture, enrolled_at=time.time()
        )
        self.save(info)
        self.store.hset(TOKENS, {token_digest(api_token): str(client_id).encode()})
        return Enrollment(client_id=client_id, api_token=api_token)

    def valid_enrollment_token(self, token: str) -> bool:
        """A one-time token (used up here) or the shared token of operator-deployed agents."""
        if self.store.take(key("enrollment", token_digest(token))) is not None:
            return True
        return self.shared_enrollment_token is not None and same_secret(token, self.shared_enrollment_token)

    async def authenticate(self, api_token: str) -> int:
        """The token's client id (read on every client request: awaited, no worker thread), or 401."""
        raw = await self.store.hget_async(TOKENS, token_digest(api_token))
        if raw is None:
            raise Unauthorized("unknown or revoked client token")
        return int(raw)

    def save(self, info: ClientInfo) -> None:
        self.store.hset(CLIENTS, {str(info.client_id): info.model_dump_json().encode()})

    def get(self, client_id: int) -> ClientInfo:
        raw = self.store.hget(CLIENTS, str(client_id))
        if raw is None:
            raise NotFound(f"client {client_id} does not exist")
        return ClientInfo.model_validate_json(raw)

    def clients(self) -> list[ClientInfo]:
        rows = [ClientInfo.model_validate_json(v) for v in self.store.hgetall(CLIENTS).values()]
        return sorted(rows, key=lambda c: c.client_id)

    def remove(self, client_id: int) -> None:
        """Delete a client and revoke its token at once."""
        self.get(client_id)
        for digest, owner in self.store.hgetall(TOKENS).items():
            if int(owner) == client_id:
                self.store.hdel(TOKENS, digest)
        with self.lock:
            self.store.hdel(CLIENTS, str(client_id))

    def record_uploads(self, sizes: Mapping[int, int]) -> None:
        """After a round closes: one more round joined, and its upload's bytes, for each counted client."""
        self.update_many(
            sizes, lambda info, size: {"rounds_joined": info.rounds_joined + 1, "bytes_sent": info.bytes_sent + size}
        )

    def record_reports(self, accuracies: Mapping[int, float | None]) -> None:
        """After a round's evaluation: each reporting client's accuracy."""
        self.update_many(accuracies, lambda _, accuracy: {"last_accuracy": accuracy})

    def update_many(self, values: Mapping[int, _V], changes: Callable[[ClientInfo, _V], dict[str, object]]) -> None:
        """Apply `changes` (and last_seen = now) to many clients' records in two store calls, not two per client;
        clients removed meanwhile stay removed."""
        now = time.time()
        with self.lock:
            rows = self.store.hgetall(CLIENTS)
            updated = {}
            for client_id, value in values.items():
                raw = rows.get(str(client_id))
                if raw is not None:
                    info = ClientInfo.model_validate_json(raw)
                    info = info.model_copy(update={"last_seen": now, **changes(info, value)})
                    updated[str(client_id)] = info.model_dump_json().encode()
            self.store.hset(CLIENTS, updated)
