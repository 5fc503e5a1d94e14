"""The content-addressed file store and the atomic write helpers."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from db_helpers import SAMPLE

from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.storage import FileStore, atomic_path, atomic_write_bytes, atomic_write_text


def test_a_file_is_stored_once_by_its_hash(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    copy = tmp_path / "renamed copy.pdf"
    copy.write_bytes((SAMPLE / "old.pdf").read_bytes())

    first = store.store_file(SAMPLE / "old.pdf")
    second = store.store_file(copy)

    assert first == second == hashlib.sha256(copy.read_bytes()).hexdigest()
    stored = store.path_for(first, ".pdf")
    assert stored == tmp_path / "files" / first[:2] / (first[2:] + ".pdf")
    assert stored.read_bytes() == copy.read_bytes()
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == [stored]


def test_storing_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not found"):
        FileStore(tmp_path / "files").store_file(tmp_path / "nope.pdf")


def test_path_for_rejects_what_is_not_a_hash(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        FileStore(tmp_path).path_for("../../etc/passwd")


def test_atomic_write_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.json"
    atomic_write_text(target, "first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert list(target.parent.iterdir()) == [target]  # no temp files left behind


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old and complete")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old and complete"
    assert list(tmp_path.iterdir()) == [target]
