"""Dashboard sessions: an admin signs in with the admin token once and gets a random session cookie.

The cookie holds a random id, never the admin token; the store keeps only its digest, with an expiry.
"""

from __future__ import annotations

from fedloom.stores.protocol import StateStore
from fedloom.wire.routes import key
from fedloom_aggregator.security import new_token, same_secret, token_digest

COOKIE = "fedloom_ui"
SESSION_SECONDS = 12 * 3600


def session_key(session: str) -> str:
    return key("ui-session", token_digest(session))


class UiSessions:
    def __init__(self, store: StateStore, admin_token: str) -> None:
        self.store, self.admin_token = store, admin_token

    def sign_in(self, token: str) -> str | None:
        """A new session id for the admin token, None for anything else (client tokens included)."""
        if not same_secret(token, self.admin_token):
            return None
        session = new_token("ui")
        self.store.set(session_key(session), b"1", ttl_seconds=SESSION_SECONDS)
        return session

    def valid(self, session: str | None) -> bool:
        return bool(session) and self.store.get(session_key(session or "")) is not None

    def sign_out(self, session: str | None) -> None:
        if session:
            self.store.delete(session_key(session))
