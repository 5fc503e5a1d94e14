"""Worker processes keep large documents open between pages: bounded, closed when idle, same results."""
from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from buildtrace_desktop.processing import documents, kept_documents, pipeline
from buildtrace_desktop.processing.types import CompareSettings


def _pdf(path: Path, pages: int) -> Path:
    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page(width=612, height=792)
        page.insert_text((72, 72), f"SHEET A-{i + 1:03d} GENERAL NOTES", fontsize=11)
        page.insert_text((500, 760), f"A-{i + 1:03d}", fontsize=14)
    doc.save(path)
    return path


@pytest.fixture
def kept():
    kept_documents.keep_documents_open(4)
    yield kept_documents.KEPT
    kept_documents.keep_documents_open(0)
    kept_documents.close_idle_documents(0)


def _open_page(path: Path, index: int):  # noqa: ANN202
    return documents.open_page(documents.list_pages([path])[index], CompareSettings())


def test_a_large_document_is_kept_for_a_bounded_number_of_pages(tmp_path: Path, kept) -> None:  # noqa: ANN001
    large = _pdf(tmp_path / "large.pdf", kept_documents.KEEP_MIN_PAGES)
    seen = []
    for index in range(kept_documents.KEEP_MAX_USES + 1):
        with _open_page(large, index) as page:
            seen.append(id(page.doc))
            assert len(kept.entries) == 1
    assert len(set(seen[: kept_documents.KEEP_MAX_USES])) == 1  # one document served the first pages
    assert seen[-1] != seen[0]  # then it was opened afresh
    kept_documents.close_idle_documents(0)
    assert kept.entries == {}  # idle: closed, no file held


def test_a_small_document_is_not_kept(tmp_path: Path, kept) -> None:  # noqa: ANN001
    small = _pdf(tmp_path / "small.pdf", 3)
    with _open_page(small, 1) as page:
        assert page.doc.page_count == 3
    assert kept.entries == {}


def test_pages_read_from_a_kept_document_read_the_same(tmp_path: Path, kept) -> None:  # noqa: ANN001
    large = _pdf(tmp_path / "large.pdf", kept_documents.KEEP_MIN_PAGES)
    pages = documents.list_pages([large])[:3]
    with_kept = [pipeline.read_sheet(p, CompareSettings(), False) for p in pages]
    kept_documents.keep_documents_open(0)
    kept_documents.close_idle_documents(0)
    fresh = [pipeline.read_sheet(p, CompareSettings(), False) for p in pages]
    assert [(i.sheet_number, i.title, i.number_candidates) for i in with_kept] == \
        [(i.sheet_number, i.title, i.number_candidates) for i in fresh]
    assert with_kept[2].sheet_number == "A-003"
