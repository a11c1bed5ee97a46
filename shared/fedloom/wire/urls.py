"""Checks of service URLs given in settings (FEDLOOM_SERVER_URL, ...), shared by the settings models."""

from __future__ import annotations


def http_url(value: str) -> str:
    """An http(s) base URL without its trailing slash; ValueError (pydantic's message) otherwise."""
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must start with http:// or https://, got {value!r}")
    return value.rstrip("/")
