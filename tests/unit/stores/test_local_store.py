"""What only the local folder store has to show: atomic writes, nothing outside its root."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from fedloom.stores import LocalArtifactStore
from fedloom.stores._keys import RESERVED


def test_files_land_under_the_root_with_readable_permissions(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put("a/b/c.bin", b"data")
    assert (tmp_path / "a" / "b" / "c.bin").read_bytes() == b"data"
    assert (tmp_path / "a" / "b" / "c.bin").stat().st_mode & 0o777 == 0o644
    assert list((tmp_path / RESERVED).iterdir()) == []


def test_a_failed_write_leaves_neither_the_key_nor_a_partial_file(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put("k.bin", b"old")
    with pytest.raises(TypeError):
        store.put("k.bin", "not bytes")  # type: ignore[arg-type]
    assert store.get("k.bin") == b"old"
    assert list((tmp_path / RESERVED).iterdir()) == []


def test_concurrent_writers_never_leave_a_mixed_object(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    payloads = [bytes([i]) * 200_000 for i in range(8)]
    threads = [threading.Thread(target=store.put, args=("shared.bin", p)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("shared.bin") in payloads


def test_delete_prunes_empty_folders_but_not_the_root(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    store.put("a/b/c.bin", b"1")
    store.delete("a/b/c.bin")
    assert sorted(p.name for p in (tmp_path / "root").iterdir()) == [RESERVED]


def test_ping_is_false_once_the_root_is_gone(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    assert store.ping() is True
    (tmp_path / "root" / RESERVED).rmdir()
    (tmp_path / "root").rmdir()
    assert store.ping() is False
