"""`ArtifactStore` in a local folder: one file per key, written atomically (temp file + rename).

Partial uploads live in `<root>/.fedloom-partial/` (same file system, so the rename is atomic and a
crash never leaves a half-written object under its key). Keys follow `fedloom.stores._keys`; unlike S3
a key cannot also be a 'folder' of other keys ("a" and "a/b" cannot both exist).
"""

from __future__ import annotations

import builtins
import os
import tempfile
from pathlib import Path

from fedloom.errors import ArtifactNotFound
from fedloom.stores._keys import RESERVED, check_key, check_prefix

FILE_MODE = 0o644


class LocalArtifactStore:
    def __init__(self, root: Path) -> None:
        self._root = Path(root).resolve()
        self._partial = self._root / RESERVED
        self._partial.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        return self._root

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        target = self._path(key)
        fd, tmp_name = tempfile.mkstemp(dir=self._partial, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.chmod(tmp_name, FILE_MODE)
            self._move_into_place(Path(tmp_name), target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    @staticmethod
    def _move_into_place(tmp: Path, target: Path) -> None:
        """Rename tmp onto target; once more if a concurrent `delete` pruned the freshly made folder."""
        for attempt in range(2):
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(tmp, target)
                return
            except FileNotFoundError:
                if attempt:
                    raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ArtifactNotFound(f"no artefact {key!r} in {self._root}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> builtins.list[str]:
        check_prefix(prefix)
        folder, _, _ = prefix.rpartition("/")
        base = self._root.joinpath(*folder.split("/")) if folder else self._root
        if not base.is_dir():
            return []
        keys = (path.relative_to(self._root).as_posix() for path in base.rglob("*") if path.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not k.startswith(RESERVED + "/"))

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return
        self._prune_empty_parents(path.parent)

    def _prune_empty_parents(self, folder: Path) -> None:
        while folder != self._root:
            try:
                folder.rmdir()
            except OSError:  # not empty, or removed by someone else
                return
            folder = folder.parent

    def ping(self) -> bool:
        return self._root.is_dir() and os.access(self._root, os.W_OK)
