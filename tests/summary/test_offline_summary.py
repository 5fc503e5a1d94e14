"""The offline summary on real truth files and real text layers: every changed text appears, with its old
and new text; locations name the region, the grid and the nearest label."""
from __future__ import annotations

import copy
import json

import pytest
from summary_helpers import CORPUS, SAMPLE, report_from_truth, truth_cases

from buildtrace_desktop.processing.summary import (
    change_category,
    grid_lines,
    nearest_label,
    parse_length,
    region_name,
    render_summary,
    summarize_report,
    text_lines,
    value_direction,
)


def assert_every_text_in_summary(report: dict, summary: dict) -> int:
    """Each change with text: its old and new words appear in its sheet's text, in its item and in the
    overall text. Returns how many changes had text."""
    checked = 0
    items = {(item["sheet"], item["index"]): item for item in summary["items"]}
    keys = list(summary["sheets"])
    for key, sheet in zip(keys, report["sheets"], strict=True):
        for index, change in enumerate(sheet.get("changes", [])):
            removed, added = change.get("text_removed") or [], change.get("text_added") or []
            if not removed and not added:
                continue
            checked += 1
            for words in (removed, added):
                if not words:
                    continue
                phrase = " ".join(words)
                assert phrase in summary["sheets"][key], (key, phrase)
                assert phrase in items[(key, index)]["description"]
                assert phrase in summary["text"]
            if removed and added:  # old → new, in that order
                line = items[(key, index)]["description"]
                assert line.index(" ".join(removed)) < line.index("→") < line.rindex(" ".join(added))
    return checked


def test_sample_summary_names_every_changed_text_with_location() -> None:
    report, words = report_from_truth(SAMPLE)
    summary = summarize_report(report, words)

    assert summary["source"] == "offline"
    assert assert_every_text_in_summary(report, summary) == 4
    af101, af600 = summary["sheets"]["AF101"], summary["sheets"]["AF600"]
    assert "dimension increased “167” → “175”" in af101
    assert "note added “OWNER FURNISHED EQUIPMENT”" in af600
    assert "text removed “PT-2 AT COLUMNS”" in af600
    assert af101.startswith("AF101: 3 changes (1 added, 1 removed, 1 modified).")
    # The VA sheets have grid bubbles 1..10 and A..F: the 167 → 175 dimension lies between 5-6 and B-C.
    item = next(i for i in summary["items"] if i["text_added"] == ["175"])
    assert item["location"].startswith("top centre, grid 5–6 / B–C")
    assert summary["counts"]["changes"] == {"added": 4, "removed": 3, "modified": 2}
    assert summary["text"].startswith("2 sheets compared: 2 matched, 0 added, 0 removed, 0 renumbered.")


def test_summary_is_deterministic_and_json_ready() -> None:
    report, words = report_from_truth(SAMPLE)
    first = summarize_report(report, words)
    second = summarize_report(copy.deepcopy(report), copy.deepcopy(words))
    assert first == second
    assert json.loads(json.dumps(first)) == first


def test_summary_without_words_or_page_size_still_lists_every_change() -> None:
    report, _ = report_from_truth(SAMPLE, words=False)
    for sheet in report["sheets"]:
        del sheet["page_size"]
    summary = summarize_report(report)
    assert assert_every_text_in_summary(report, summary) == 4
    assert len(summary["items"]) == 9
    assert all(item["location"] == "" for item in summary["items"])


def test_added_removed_and_renumbered_sheets_are_named() -> None:
    report = {
        "sheets": [
            {"sheet_number": "A-201", "title": "ELEVATIONS", "status": "matched", "renumbered": True,
             "old_sheet_number": "A-200", "page_size": [2592, 1728], "changes": []},
            {"sheet_number": "A-301", "title": "SECTIONS", "status": "added", "new_page": 1, "changes": []},
            {"sheet_number": "E-101", "title": None, "status": "removed", "old_page": 4, "changes": []},
            {"sheet_number": None, "status": "matched", "new_page": 3, "page_size": [100, 100],
             "warnings": ["low-confidence alignment (0.31, features): check the overlay"],
             "changes": [{"kind": "added", "bbox": [1, 1, 9, 9], "text_added": [], "text_removed": []}]},
        ]
    }
    summary = summarize_report(report)
    text = summary["text"]
    assert "4 sheets compared: 2 matched, 1 added, 1 removed, 1 renumbered." in text
    assert "Sheets added: A-301." in text and "Sheets removed: E-101." in text
    assert "Sheets renumbered: A-201." in text
    assert summary["sheets"]["A-201"] == "A-201 ELEVATIONS: no changes. Renumbered from A-200."
    assert summary["sheets"]["A-301"] == "A-301 SECTIONS: sheet added in the new set."
    assert summary["sheets"]["page 4"].splitlines()[1].startswith("Warning: low-confidence alignment")
    assert "- line work added (top left)" in summary["sheets"]["page 4"]


def test_change_categories() -> None:
    assert change_category({"kind": "modified", "text_removed": ["2'-10\""], "text_added": ["3'-1\""]}) == (
        "dimension changed")
    assert change_category({"kind": "modified", "text_removed": ["PT-1"], "text_added": ["PT-2"]}) == "text changed"
    assert change_category({"kind": "added", "text_added": ["NEW", "GFCI"]}) == "note added"
    assert change_category({"kind": "added", "text_added": ["1'-6 1/2\""]}) == "dimension added"
    assert change_category({"kind": "removed", "text_removed": ["SEE", "A-501"]}) == "text removed"
    assert change_category({"kind": "removed"}) == "line work removed"


def test_values_that_grow_or_shrink_say_so() -> None:
    assert parse_length("1'-6 1/2\"") == 18.5 and parse_length("31’-6 7/8”") == 378.875
    assert parse_length("7/8\"") == 0.875 and parse_length("PT-2") is None
    assert value_direction(["40'-0\""], ["36'-11 3/8\""]) == "reduced"
    assert value_direction(["61,789", "S.F"], ["67,390", "S.F"]) == "increased"
    assert value_direction(["D5"], ["D5.1"]) is None  # a renamed tag, not a bigger value
    assert value_direction(["ROOM", "101"], ["ROOM", "102"]) is None
    report = {"sheets": [{"sheet_number": "G-105", "status": "matched", "page_size": [100, 100], "changes": [
        {"kind": "modified", "bbox": [0, 0, 9, 9], "text_removed": ["2,624", "S.F"], "text_added": ["1,735", "S.F"]},
        {"kind": "modified", "bbox": [0, 0, 9, 9], "text_removed": ["11'-0\""], "text_added": ["10'-0\""]},
    ]}]}
    lines = summarize_report(report)["sheets"]["G-105"].splitlines()
    assert lines[1] == "- value reduced “2,624 S.F” → “1,735 S.F” (top left)"
    assert lines[2] == "- dimension reduced “11'-0\"” → “10'-0\"” (top left)"


def test_region_names_cover_the_sheet() -> None:
    size = (300.0, 300.0)
    assert region_name((0, 0, 10, 10), size) == "top left"
    assert region_name((140, 140, 160, 160), size) == "centre"
    assert region_name((290, 140, 300, 160), size) == "middle right"
    assert region_name((140, 290, 160, 300), size) == "bottom centre"
    assert region_name((0, 0, 10, 10), None) == ""


def test_grid_needs_bubbles_at_both_ends_and_ignores_words_of_notes() -> None:
    size = (1000.0, 800.0)
    bubbles = []
    for label, x in (("1", 100), ("2", 300), ("3", 500)):
        bubbles += [(x - 5, 20, x + 5, 32, label), (x - 5, 760, x + 5, 772, label)]
    for label, y in (("A", 150), ("B", 400), ("C", 650)):
        bubbles += [(20, y - 6, 30, y + 6, label), (960, y - 6, 970, y + 6, label)]
    note = [(400, 300, 420, 310, "TO"), (423, 300, 440, 310, "BE"), (400, 600, 420, 610, "TO"),
            (423, 600, 440, 610, "BE")]
    columns, rows = grid_lines(bubbles + note, size)
    assert columns == {"1": 100.0, "2": 300.0, "3": 500.0}
    assert rows == {"A": 150.0, "B": 400.0, "C": 650.0}


def test_nearest_label_prefers_capitals_outside_the_change() -> None:
    words = [(100, 100, 140, 110, "MECHANICAL"), (143, 100, 160, 110, "104"),
             (300, 300, 330, 310, "see"), (332, 300, 360, 310, "notes"),
             (200, 200, 240, 210, "NEW"), (243, 200, 280, 210, "NOTE")]
    phrases = text_lines(words)
    assert [p[4] for p in phrases] == ["MECHANICAL 104", "NEW NOTE", "see notes"]
    assert nearest_label((190, 150, 260, 215), phrases, {"NEW NOTE"}) == "MECHANICAL 104"
    assert nearest_label((290, 290, 300, 300), phrases, set()) == "NEW NOTE"
    assert nearest_label((900, 900, 910, 910), phrases, set()) == ""


def test_long_notes_are_cut_but_short_ones_whole() -> None:
    words = ["WORD"] * 200
    report = {"sheets": [{"sheet_number": "G-001", "status": "matched", "page_size": [100, 100],
                          "changes": [{"kind": "added", "bbox": [0, 0, 5, 5], "text_added": words}]}]}
    text = summarize_report(report)["sheets"]["G-001"]
    assert "more words)" in text and len(text) < 600


def test_render_summary_plain_and_markdown() -> None:
    report, words = report_from_truth(SAMPLE)
    summary = summarize_report(report, words)
    plain = render_summary(summary)
    markdown = render_summary(summary, markdown=True)
    assert plain.startswith("Summary of changes\n\n2 sheets compared")
    assert markdown.startswith("## Summary of changes")
    llm = {"source": "gpt-4o-mini", "text": "Two dimensions changed.", "sheets": {"AF101": "- Dim: 167 → 175"}}
    assert "### AF101\n- Dim: 167 → 175" in render_summary(llm, markdown=True)
    assert "(by gpt-4o-mini)" in render_summary(llm)


@pytest.mark.corpus
@pytest.mark.parametrize("case", truth_cases(), ids=lambda p: p.name)
def test_every_corpus_change_with_text_is_in_the_summary(case) -> None:
    report, words = report_from_truth(case)
    summary = summarize_report(report, words)
    expected = sum(1 for s in report["sheets"] for c in s.get("changes", [])
                   if c.get("text_removed") or c.get("text_added"))
    assert assert_every_text_in_summary(report, summary) == expected
    assert len(summary["items"]) == sum(len(s.get("changes", [])) for s in report["sheets"])
    for key, sheet in zip(summary["sheets"], report["sheets"], strict=True):
        if sheet["status"] != "matched":
            assert f"sheet {sheet['status']}" in summary["sheets"][key]


@pytest.mark.corpus
def test_corpus_is_there() -> None:
    # The corpus tests must run where the corpus exists (CI): an empty parametrisation would hide them.
    assert len(truth_cases()) >= 9, CORPUS
