"""Title-block readings: number candidates weighed by place and labels, titles from their field."""
from __future__ import annotations

from pathlib import Path

import pymupdf

from buildtrace_desktop.processing import documents, sheets
from buildtrace_desktop.processing.titleblock import (
    TextLine,
    find_title,
    looks_like_sheet_number,
    number_candidates,
)
from buildtrace_desktop.processing.types import CompareSettings

W, H = 3024.0, 2160.0


def line(text: str, x: float, y: float, size: float) -> TextLine:
    return TextLine(text, (x, y, x + 0.55 * size * len(text), y + size), size)


def test_dates_rooms_and_routes_are_no_sheet_numbers() -> None:
    for text in ("MAY 22", "LAB 1-129", "APR 2021", "LEVEL 01"):
        assert not looks_like_sheet_number(text), text
    for text in ("A-101", "AF101", "TSDE01", "E201A", "SC20-TN01", "L01-H01D01-FOS-00-XX-MUP-AR-80050", "A 101"):
        assert looks_like_sheet_number(text), text


def test_a_number_another_label_names_weighs_less_than_the_labelled_one() -> None:
    lines = [line("Model File Reference", 3047, 2154, 9.9), line("L01-H01D01-FOS-00-ZZ-MOD-AR-00002", 3047, 2167, 13.3),
             line("Drawing Number", 3047, 2095, 9.9), line("L01-H01D01-FOS-00-XX-MUP-AR-80050", 3047, 2109, 13.3)]
    candidates = number_candidates(lines, W + 300, H)
    assert candidates[0].text == "L01-H01D01-FOS-00-XX-MUP-AR-80050" and candidates[0].weight == 1.0
    assert candidates[1].weight < 0.5


def test_a_title_set_on_several_lines_is_joined_in_reading_order() -> None:
    number = line("E201A", 2799, 2053, 50.4)
    lines = [number, line("FLOOR PLAN -", 2805, 1823, 24.9), line("LEVEL 01 - AREA", 2780, 1852, 24.9),
             line("A - POWER &", 2820, 1880, 24.9), line("SIGNAL", 2873, 1909, 24.9),
             line("Washington State", 2600, 1990, 26.0)]
    assert find_title(lines, number, W, H) == "FLOOR PLAN - LEVEL 01 - AREA A - POWER & SIGNAL"


def test_the_title_field_is_read_under_its_label(tmp_path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    for (x, y), text, size in [((2700, 1700), "Drawing Title", 9.9), ((2700, 1725), "Mockup", 20.0),
                               ((2700, 1748), "External Wall Systems", 20.0), ((2700, 1771), "MEP Door Details", 20.0),
                               ((2700, 1830), "Drawing Number", 9.9), ((2700, 1855), "A-501", 20.0),
                               ((2700, 1600), "Foster + Partners", 30.0)]:
        page.insert_text((x, y), text, fontsize=size)
    doc.save(tmp_path / "sheet.pdf")
    [info] = [sheets.read_sheet(p, CompareSettings()) for p in documents.list_pages([tmp_path / "sheet.pdf"])]
    assert info.sheet_number == "A-501"
    assert info.title == "Mockup External Wall Systems MEP Door Details"


def test_a_number_set_as_two_touching_spans_is_read_whole(tmp_path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    writer = pymupdf.TextWriter(page.rect)
    font = pymupdf.Font("helv")
    _, end = writer.append((2800, 2100), "SC20", font=font, fontsize=30)
    writer.append(end, "-TN01", font=pymupdf.Font("hebo"), fontsize=30)
    writer.write_text(page)
    page.insert_text((2800, 2000), "FIRST FLOOR PLAN", fontsize=20)
    doc.save(tmp_path / "split.pdf")
    [info] = [sheets.read_sheet(p, CompareSettings()) for p in documents.list_pages([tmp_path / "split.pdf"])]
    assert info.sheet_number == "SC20-TN01"
