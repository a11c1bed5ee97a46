"""The `ArtifactStore` contract, run on `LocalArtifactStore` and on `S3ArtifactStore` (a real moto S3 server)."""

from __future__ import annotations

import pytest

from fedloom.errors import FedLoomError
from fedloom.stores import ArtifactNotFound, ArtifactStore, InvalidArtifactKey

BAD_KEYS = ["", "/abs", "../up", "a/../b", "a/./b", "a//b", "a/", ".", "..", "a\\b", "nul\x00", ".fedloom-partial/x"]
BAD_PREFIXES = ["/abs", "../", "a/../", "a/..", "a//", "tab\t"]


def test_put_get_round_trips_any_bytes(artifact_store: ArtifactStore) -> None:
    for data in (b"", b"\x00\xff\r\n", bytes(range(256)) * 1000):
        artifact_store.put("rounds/0001/package.bin", data)
        assert artifact_store.get("rounds/0001/package.bin") == data


def test_put_overwrites_and_accepts_a_content_type(artifact_store: ArtifactStore) -> None:
    artifact_store.put("img.png", b"old", content_type="image/png")
    artifact_store.put("img.png", b"new", content_type="image/png")
    assert artifact_store.get("img.png") == b"new"


def test_get_missing_raises_artifact_not_found(artifact_store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFound, match="nope/x.bin"):
        artifact_store.get("nope/x.bin")
    assert issubclass(ArtifactNotFound, FedLoomError)


def test_exists(artifact_store: ArtifactStore) -> None:
    assert artifact_store.exists("a/b.bin") is False
    artifact_store.put("a/b.bin", b"1")
    assert artifact_store.exists("a/b.bin") is True
    assert artifact_store.exists("a") is False  # a "folder" is not an object


def test_list_is_a_sorted_string_prefix_match(artifact_store: ArtifactStore) -> None:
    keys = ["runs/r1/a.bin", "runs/r1/sub/b.bin", "runs/r10/c.bin", "runs/r2/d.bin", "top.json"]
    for key in reversed(keys):
        artifact_store.put(key, b"x")
    assert artifact_store.list("") == keys
    assert artifact_store.list("runs/r1") == keys[:3]
    assert artifact_store.list("runs/r1/") == keys[:2]
    assert artifact_store.list("runs/r1/sub/b.bin") == ["runs/r1/sub/b.bin"]
    assert artifact_store.list("runs/r3") == []
    assert artifact_store.list("nothing/here/") == []


def test_delete_is_idempotent(artifact_store: ArtifactStore) -> None:
    artifact_store.put("a/b/c.bin", b"1")
    artifact_store.put("a/d.bin", b"2")
    artifact_store.delete("a/b/c.bin")
    artifact_store.delete("a/b/c.bin")
    artifact_store.delete("never/was.bin")
    assert artifact_store.exists("a/b/c.bin") is False
    assert artifact_store.list("a/") == ["a/d.bin"]
    with pytest.raises(ArtifactNotFound):
        artifact_store.get("a/b/c.bin")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused_by_every_operation(artifact_store: ArtifactStore, key: str) -> None:
    for operation in (
        lambda: artifact_store.put(key, b"x"),
        lambda: artifact_store.get(key),
        lambda: artifact_store.exists(key),
        lambda: artifact_store.delete(key),
    ):
        with pytest.raises(InvalidArtifactKey):
            operation()
    assert artifact_store.list("") == []


@pytest.mark.parametrize("prefix", BAD_PREFIXES)
def test_bad_prefixes_are_refused(artifact_store: ArtifactStore, prefix: str) -> None:
    with pytest.raises(InvalidArtifactKey) as caught:
        artifact_store.list(prefix)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, FedLoomError)


def test_ping(artifact_store: ArtifactStore) -> None:
    assert artifact_store.ping() is True
