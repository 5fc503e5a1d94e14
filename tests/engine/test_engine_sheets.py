"""Sheet numbers and titles, and matching sets by number, title and looks (never by page order)."""
from __future__ import annotations

from pathlib import Path

import pdf_makers
import pymupdf
import pytest

from buildtrace_desktop.processing import documents, sheets
from buildtrace_desktop.processing.types import CompareSettings, SheetInfo


def read_all(path: Path) -> list[SheetInfo]:
    return [sheets.read_sheet(p, CompareSettings()) for p in documents.list_pages([path])]


def test_numbers_and_titles_from_the_text_layer(sample_old: Path) -> None:
    infos = read_all(sample_old)
    assert [i.sheet_number for i in infos] == ["AF101", "AF600"]
    assert infos[0].title == "FIRST FLOOR FINISH PLAN"
    assert "ROOM FINISH SCHEDULE" in infos[1].title
    assert all(i.number_source == "text" and i.has_text_layer for i in infos)


def test_numbers_of_a_scan_come_from_tesseract(tmp_path: Path, sample_new: Path) -> None:
    scan = pdf_makers.scan(sample_new, tmp_path / "scan.pdf", angle_deg=0.6)
    infos = read_all(scan)
    assert [sheets.normalize_number(i.sheet_number) for i in infos] == ["AF101", "AF600"]
    assert all(i.number_source == "ocr" and not i.has_text_layer for i in infos)


def test_labelled_number_wins_over_a_larger_route_number_and_a_stamp_is_no_title(tmp_path: Path) -> None:
    # The WSDOT title block of the corpus: the route ("SR 167") is set larger than the sheet number, which
    # sits under its label "PLAN REF NO"; an issue stamp is the largest text near it.
    doc = pymupdf.open()
    page = doc.new_page(width=3024, height=1296)
    for (x, y), text, size in [((2822, 1200), "SR 167", 9.7), ((2954, 1196), "PLAN REF NO", 3.6),
                               ((2951, 1210), "TSDE01", 8.9), ((2397, 1208), "CONCEPTUAL DESIGN", 15.3),
                               ((2452, 1229), "NOT FOR", 15.7), ((2745, 1255), "COMMUNICATION ONE-LINE DIAGRAM", 8.6)]:
        page.insert_text((x, y), text, fontsize=size)
    doc.save(tmp_path / "wsdot.pdf")
    doc.close()
    [sheet] = read_all(tmp_path / "wsdot.pdf")
    assert (sheet.sheet_number, sheet.title) == ("TSDE01", "COMMUNICATION ONE-LINE DIAGRAM")


@pytest.mark.parametrize("a, b", [("A-101", "A101"), ("A 101", "a-101"), ("A1O1", "A101"), ("E-I01", "E101"),
                                  ("AF101", "AF 101"), ("A101-A", "A101A")])
def test_number_normalisation_forgives_spelling_and_ocr_slips(a: str, b: str) -> None:
    assert sheets.normalize_number(a) == sheets.normalize_number(b)


def test_different_numbers_stay_different() -> None:
    assert sheets.normalize_number("A101") != sheets.normalize_number("A102")
    assert sheets.normalize_number("A101") != sheets.normalize_number("S101")


def info(i: int, number: str | None, title: str | None = None, thumb: int = 0) -> SheetInfo:
    # Thumbnails: distinct pictures per `thumb` (a bar at a different place), for visual matching.
    picture = [[255] * 16 for _ in range(12)]
    for row in range(12):
        picture[row][thumb % 16] = 0
        picture[(thumb * 3) % 12][row] = 0
    return SheetInfo(i, number, title, "text" if number else None, (3024.0, 2160.0), True, picture)


def test_matching_by_number_not_page_order() -> None:
    old = [info(0, "A-101", thumb=1), info(1, "A-102", thumb=2), info(2, "E-101", thumb=3)]
    new = [info(0, "A102", thumb=2), info(1, "A 101", thumb=1), info(2, "A-103", thumb=5)]
    result = {(m.old_index, m.new_index): m for m in sheets.match_sheets(old, new)}
    assert result[(0, 1)].status == "matched" and result[(1, 0)].status == "matched"
    assert result[(2, None)].status == "removed" and result[(None, 2)].status == "added"
    assert not any(m.renumbered for m in result.values())


def test_renumbered_sheet_is_matched_by_title_and_reported() -> None:
    old = [info(0, "A-101", "FIRST FLOOR PLAN", 1), info(1, "A-102", "ROOF PLAN", 2)]
    new = [info(0, "A-201", "First Floor Plan", 1), info(1, "A-102", "ROOF PLAN", 2)]
    matches = {(m.old_index, m.new_index): m for m in sheets.match_sheets(old, new)}
    assert matches[(0, 0)].method in ("title", "visual") and matches[(0, 0)].renumbered
    assert matches[(1, 1)].method == "number" and not matches[(1, 1)].renumbered


def test_sheets_without_numbers_are_matched_by_looks_only_when_alike() -> None:
    old = [info(0, None, None, 3), info(1, None, None, 9)]
    new = [info(0, None, None, 9), info(1, None, None, 3)]
    matches = {(m.old_index, m.new_index) for m in sheets.match_sheets(old, new) if m.status == "matched"}
    assert matches == {(0, 1), (1, 0)}


def test_matching_renders_thumbnails_only_for_the_sheets_it_compares_by_looks() -> None:
    """A comparison's sheet stage skips thumbnails; matching asks for those it needs, and keeps them."""
    old = [info(0, "A-101", thumb=1), info(1, None, thumb=3)]
    new = [info(0, "A101", thumb=1), info(1, None, thumb=3)]
    pictures = {(side, s.set_index): s.thumbnail for side, group in (("old", old), ("new", new)) for s in group}
    for s in old + new:
        s.thumbnail = None
    asked = []

    def thumbnail(side: str, set_index: int) -> list[list[int]]:
        asked.append((side, set_index))
        return pictures[(side, set_index)]

    matches = {(m.old_index, m.new_index): m.method for m in sheets.match_sheets(old, new, thumbnail)
               if m.status == "matched"}
    assert matches == {(0, 0): "number", (1, 1): "visual"}
    assert sorted(asked) == [("new", 1), ("old", 1)]
    assert old[1].thumbnail == pictures[("old", 1)] and old[0].thumbnail is None


def test_one_sheet_against_many(tmp_path: Path, sample_old: Path) -> None:
    one = pdf_makers.subset(sample_old, [1], tmp_path / "one.pdf")
    old_infos, new_infos = read_all(sample_old), read_all(one)
    matches = sheets.match_sheets(old_infos, new_infos)
    assert sorted((m.status, m.old_index, m.new_index) for m in matches) == [("matched", 1, 0), ("removed", 0, None)]
