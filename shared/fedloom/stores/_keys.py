"""Artefact key rules shared by every `ArtifactStore`, so a key valid in one store is valid in all.

A key is a relative, '/'-separated path of non-empty segments, none of them '.' or '..', with no
backslash or control character, at most 1024 UTF-8 bytes (the S3 limit). The first segment may not
be `RESERVED`: the local store keeps its partial uploads there.
"""

from __future__ import annotations

from fedloom.stores.errors import InvalidArtifactKey

RESERVED = ".fedloom-partial"
MAX_KEY_BYTES = 1024


def check_key(key: str) -> str:
    """Return `key` unchanged, or raise `InvalidArtifactKey` saying what is wrong with it."""
    _check_chars(key, "key")
    if not key:
        raise InvalidArtifactKey("artefact key is empty")
    for segment in key.split("/"):
        _check_segment(key, segment, "key")
    return key


def check_prefix(prefix: str) -> str:
    """Like `check_key`, but '' and a trailing '/' are allowed (a listing of a 'folder')."""
    _check_chars(prefix, "prefix")
    segments = prefix.split("/")
    for segment in segments[:-1]:
        _check_segment(prefix, segment, "prefix")
    if segments[-1] in (".", ".."):
        raise InvalidArtifactKey(f"artefact prefix {prefix!r} may not end in {segments[-1]!r}")
    return prefix


def _check_chars(text: str, what: str) -> None:
    if not isinstance(text, str):
        raise InvalidArtifactKey(f"artefact {what} must be a str, not {type(text).__name__}")
    if len(text.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidArtifactKey(f"artefact {what} is longer than {MAX_KEY_BYTES} bytes: {text[:64]!r}...")
    if text.startswith("/"):
        raise InvalidArtifactKey(f"artefact {what} {text!r} must be relative (no leading '/')")
    if "\\" in text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidArtifactKey(f"artefact {what} {text!r} contains a backslash or a control character")
    if text.split("/", 1)[0] == RESERVED:
        raise InvalidArtifactKey(f"artefact {what} {text!r} uses the reserved name {RESERVED!r}")


def _check_segment(text: str, segment: str, what: str) -> None:
    if segment in ("", ".", ".."):
        raise InvalidArtifactKey(f"artefact {what} {text!r} has an empty, '.' or '..' path segment")
