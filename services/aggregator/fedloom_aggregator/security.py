"""Tokens: random, shown once, stored only as SHA-256 digests (they carry 256 bits of entropy)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit, urlunsplit


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def without_password(url: str) -> str:
    """A URL fit for logs: redis://:secret@host:6379/0 -> redis://:***@host:6379/0."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
