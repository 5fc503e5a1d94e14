"""The engine end to end on the bundled sample (VA St. Cloud, 2 sheets with known edits) and on re-plots
and scans made from it."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pdf_makers
import pymupdf
import pytest
from truth_check import score_sheet

from buildtrace_desktop.processing import align, documents, pipeline
from buildtrace_desktop.processing.types import CompareSettings

SAMPLE_TRUTH = Path(__file__).resolve().parents[2] / "resources" / "sample" / "truth.json"


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory, sample_old: Path, sample_new: Path) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("sample")
    return pipeline.compare_sets([str(sample_old)], [str(sample_new)], CompareSettings(), out), out


def test_sample_changes_match_the_truth(sample_report) -> None:
    report, _ = sample_report
    truth = json.loads(SAMPLE_TRUTH.read_text())
    by_page = {s["new_page"]: s for s in report["sheets"]}
    for ts in truth["sheets"]:
        sheet = by_page[ts["new_page"]]
        assert sheet["status"] == "matched" and sheet["sheet_number"] == ts["sheet_number"]
        assert sheet["alignment"]["method"] == "identity" and sheet["alignment"]["confidence"] > 0.95
        scores = score_sheet(sheet["changes"], ts["changes"])
        assert scores == {"recall": 1.0, "precision": 1.0, "kind": 1.0, "text": 1.0}, (ts["sheet_number"], scores)


def test_sample_outputs_are_written(sample_report) -> None:
    report, out = sample_report
    assert json.loads((out / "report.json").read_text()) == report
    assert report["format"] == "buildtrace-report/1" and report["old"]["pages"] == 2
    rows = list(csv.DictReader((out / "changes.csv").open()))
    assert len(rows) == report["totals"]["changes"] == 9
    assert {r["sheet"] for r in rows} == {"AF101", "AF600"}
    assert any(r["text_removed"] == "167" and r["text_added"] == "175" for r in rows)
    with pymupdf.open(out / "report.pdf") as pdf:
        assert pdf.page_count == 3  # cover + the two changed sheets
        assert "AF101" in pdf[0].get_text() and "AF600" in pdf[2].get_text()
    for sheet in report["sheets"]:
        overlay = cv2.imread(str(out / sheet["overlay_png"]))
        assert overlay is not None and overlay.shape[1] > 1000
        # Three inks on white: some pixels are red-ish (old only), some blue-ish (new only), most white.
        b, g, r = (overlay[..., i].astype(int) for i in range(3))
        assert ((r - b) > 80).sum() > 50 and ((b - r) > 80).sum() > 50
        assert (overlay.min(axis=2) > 240).mean() > 0.5
        assert cv2.imread(str(out / sheet["side_by_side_png"])).shape[1] > overlay.shape[1]


def test_same_set_twice_has_no_changes(tmp_path: Path, sample_old: Path) -> None:
    copy = pdf_makers.copy(sample_old, tmp_path / "copy.pdf")
    report = pipeline.compare_sets([str(sample_old)], [str(copy)], CompareSettings(), tmp_path / "out")
    assert [len(s["changes"]) for s in report["sheets"]] == [0, 0]



def test_page_carried_into_a_new_set_unchanged_is_all_common_ink(tmp_path: Path, sample_old: Path) -> None:
    old = documents.list_pages([pdf_makers.subset(sample_old, [1, 0], tmp_path / "old.pdf")])[1]
    new = documents.list_pages([pdf_makers.subset(sample_old, [0], tmp_path / "new.pdf")])[0]
    result = pipeline.compare_pair(old, new, CompareSettings(), tmp_path / "out", "A", thumbnails=True)
    assert result.changes == [] and result.warnings == []
    assert result.alignment.method == "identity" and result.alignment.confidence == 1.0
    assert result.old_thumbnail == result.new_thumbnail is not None
    overlay = cv2.imread(result.overlay_png)
    b, g, r = (overlay[..., i].astype(int) for i in range(3))
    assert (overlay < 200).any()  # the drawing is there ...
    assert (abs(r - b) < 8).all() and (abs(r - g) < 8).all()  # ... all of it in the common gray


def _moved(box, scale, dx, dy):
    return [box[0] * scale + dx, box[1] * scale + dy, box[2] * scale + dx, box[3] * scale + dy]


def test_replotted_set_is_aligned_from_its_text(tmp_path: Path, sample_old: Path, sample_new: Path) -> None:
    scale, dx, dy = 0.97, 41.0, -23.0
    new = pdf_makers.replot(sample_new, tmp_path / "replot.pdf", scale, dx, dy, pages=[1])
    old = pdf_makers.subset(sample_old, [1], tmp_path / "old.pdf")
    report = pipeline.compare_sets([str(old)], [str(new)], CompareSettings(), tmp_path / "out")
    sheet = report["sheets"][0]
    m = np.array(sheet["alignment"]["matrix"])
    assert sheet["alignment"]["method"] == "text"
    assert m == pytest.approx(np.array([[scale, 0, dx], [0, scale, dy]]), abs=0.25)
    truth = json.loads(SAMPLE_TRUTH.read_text())["sheets"][1]["changes"]
    moved = [dict(c, bbox=_moved(c["bbox"], scale, dx, dy)) for c in truth]
    scores = score_sheet(sheet["changes"], moved)
    assert scores["recall"] == 1.0 and scores["precision"] >= 0.85, scores


def test_scanned_sheet_is_aligned_and_diffed(tmp_path: Path, sample_old: Path, sample_new: Path) -> None:
    angle = 0.7
    new = pdf_makers.scan(sample_new, tmp_path / "scan.pdf", angle_deg=angle, pages=[1])
    old = pdf_makers.subset(sample_old, [1], tmp_path / "old.pdf")
    report = pipeline.compare_sets([str(old)], [str(new)], CompareSettings(), tmp_path / "out")
    sheet = report["sheets"][0]
    assert sheet["status"] == "matched" and sheet["number_source"] == "ocr"
    assert sheet["alignment"]["method"] == "features" and sheet["alignment"]["confidence"] > 0.8
    # The scan rotated the page about its centre: the recovered matrix must say the same.
    page_w, page_h = sheet["page_size"]
    m = cv2.getRotationMatrix2D((page_w / 2, page_h / 2), angle, 1.0)
    found = np.array(sheet["alignment"]["matrix"])
    for x, y in ((200, 200), (2800, 1900), (1500, 1000)):
        assert align.apply(found, x, y) == pytest.approx(align.apply(m, x, y), abs=1.5)
    truth = json.loads(SAMPLE_TRUTH.read_text())["sheets"][1]["changes"]
    rotated = []
    for c in truth:
        corners = [align.apply(m, x, y) for x in (c["bbox"][0], c["bbox"][2]) for y in (c["bbox"][1], c["bbox"][3])]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        rotated.append(dict(c, bbox=[min(xs), min(ys), max(xs), max(ys)]))
    scores = score_sheet(sheet["changes"], rotated)
    assert scores["recall"] >= 0.8 and scores["precision"] >= 0.8, scores


def test_digit_changed_inside_a_word_of_a_scan_is_found(tmp_path: Path, sample_old: Path) -> None:
    """"140" -> "141" in 9.6 pt text against a scan: the 0's sides lie within the scan's tolerance of the
    1, so only the word-by-word check sees it. The same word scanned unchanged stays quiet."""
    box = pdf_makers.retype_word(sample_old, tmp_path / "old.pdf", 0, "140", "140")
    pdf_makers.retype_word(sample_old, tmp_path / "new_vector.pdf", 0, "140", "141")
    unchanged = pdf_makers.scan(tmp_path / "old.pdf", tmp_path / "unchanged.pdf", angle_deg=0.4)
    changed = pdf_makers.scan(tmp_path / "new_vector.pdf", tmp_path / "changed.pdf", angle_deg=0.4)
    old_page = documents.list_pages([tmp_path / "old.pdf"])[0]

    def changes_at_word(new: Path) -> list:
        result = pipeline.compare_pair(old_page, documents.list_pages([new])[0], CompareSettings())
        assert result.alignment.confidence > 0.8
        (x0, y0), (x1, y1) = (align.apply(result.alignment.matrix, x, y) for x, y in ((box.x0, box.y0), (box.x1, box.y1)))
        return [c for c in result.changes if c.bbox[0] < x1 + 3 and c.bbox[2] > x0 - 3 and c.bbox[1] < y1 + 3 and c.bbox[3] > y0 - 3]

    assert changes_at_word(unchanged) == []
    found = changes_at_word(changed)
    assert len(found) == 1, found
    assert "140" in found[0].text_removed


def test_low_confidence_is_a_warning_not_a_silent_overlay(tmp_path: Path, sample_old: Path) -> None:
    """Two different drawings with the same sheet number: the pair is compared, and flagged."""
    old = pdf_makers.subset(sample_old, [0], tmp_path / "old.pdf")
    other = pymupdf.open()
    with pymupdf.open(sample_old) as src:
        page = other.new_page(width=src[0].rect.width, height=src[0].rect.height)
        page.show_pdf_page(pymupdf.Rect(0, 0, 1200, 860), src, 1)  # a shrunk schedule sheet
        page.insert_text((2484, 2050), "AF101", fontsize=25)
    other.save(tmp_path / "new.pdf")
    report = pipeline.compare_sets([str(old)], [str(tmp_path / "new.pdf")], CompareSettings(), tmp_path / "out")
    sheet = report["sheets"][0]
    assert sheet["status"] == "matched"
    assert sheet["alignment"]["confidence"] < 0.6
    assert any("low-confidence alignment" in w for w in sheet["warnings"])


def test_a_word_crossed_by_new_text_on_a_scan_is_changed_where_it_was_crossed(tmp_path: Path, sample_old: Path) -> None:
    """A short mark written across the middle of a long word: the change is where the mark is, not the
    whole word (whose box would join its neighbours into one region)."""
    old = pdf_makers.subset(sample_old, [0], tmp_path / "old.pdf")
    with pymupdf.open(old) as doc:
        page = doc[0]
        x0, y0, x1, y1 = next(w[:4] for w in page.get_text("words") if w[4] == "CONFERENCE/BREAK")
        mid = (x0 + x1) / 2
        page.draw_line((mid, y0 - 2), (mid + 4, y1 + 2), width=1.2)
        doc.save(tmp_path / "marked.pdf")
    scanned = pdf_makers.scan(tmp_path / "marked.pdf", tmp_path / "new.pdf", angle_deg=0.3)
    result = pipeline.compare_pair(documents.list_pages([old])[0], documents.list_pages([scanned])[0],
                                   CompareSettings(ocr=False))
    (wx0, wy0), (wx1, wy1) = (align.apply(result.alignment.matrix, x, y) for x, y in ((x0, y0), (x1, y1)))
    near = [c for c in result.changes if c.bbox[0] < wx1 and c.bbox[2] > wx0 and c.bbox[1] < wy1 + 3 and c.bbox[3] > wy0 - 3]
    assert len(near) == 1, [c.bbox for c in result.changes]
    assert near[0].bbox[2] - near[0].bbox[0] < 0.5 * (x1 - x0), (near[0].bbox, (x0, x1))
