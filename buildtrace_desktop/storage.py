"""Content-addressed file store and atomic writes.

An imported file is copied once into `files/<first 2 hex>/<rest of sha256><suffix>` and known by its hash
from then on. The suffix (".pdf", ".png") is kept because the engine tells PDFs from images by it. Every write here goes to a temp file in the target folder and is then renamed into place
(`os.replace` is atomic on one filesystem), so a crash leaves either the old file or the new one, never
half of one. `atomic_write_bytes` / `atomic_write_text` are for everyone (reports, settings).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.processing.types import sha256_file


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temp path next to `target`; on success fsync and rename it onto `target`, else delete it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(target: str | Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | Path, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(target, text.encode(encoding))


def atomic_copy(source: str | Path, target: str | Path) -> Path:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return Path(target)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


class FileStore:
    """Files stored once by SHA-256 under `root`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str, suffix: str = "") -> Path:
        """Where the file with this hash (and suffix, as stored) lives; it may not exist."""
        sha256 = sha256.lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / (sha256[2:] + suffix.lower())

    def has(self, sha256: str, suffix: str = "") -> bool:
        return self.path_for(sha256, suffix).is_file()

    def store_file(self, path: str | Path) -> str:
        """Copy `path` into the store unless a file with the same content is already there; return its hash.

        The stored copy keeps the lower-cased suffix of `path` (see `path_for`)."""
        source = Path(path)
        if not source.is_file():
            raise BadInputError(f"{source}: file not found. Check the path and try again.")
        sha = sha256_file(source)
        target = self.path_for(sha, source.suffix)
        if not target.is_file():
            atomic_copy(source, target)
        return sha

    def remove(self, sha256: str, suffix: str = "") -> bool:
        """Delete a stored file; True if it existed. Empty shard folders are left (harmless), and so is a
        file Windows will not delete while it is open (a worker process keeps a large document open for a
        few seconds after its last page): an orphan file, as after a crash, never a row without its file."""
        target = self.path_for(sha256, suffix)
        if target.is_file():
            try:
                target.unlink()
            except PermissionError:
                return False
            return True
        return False
