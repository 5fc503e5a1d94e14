"""Words of one line of large text changed together are one change; separate notes stay separate."""
from __future__ import annotations

from buildtrace_desktop.processing.text_lines import join_text_lines
from buildtrace_desktop.processing.types import Change


def removed(x0: float, x1: float, y0: float, y1: float, *words: str) -> Change:
    return Change("removed", (x0, y0, x1, y1), area=10.0, text_removed=list(words), removed_px=10)


def test_the_words_of_a_large_title_removed_are_one_change() -> None:
    # a title 60 pt high whose words stand 25 pt apart, beyond the diff's grouping distance
    parts = [removed(1100, 1308, 112, 214, "LILY"), removed(1335, 1588, 112, 214, "HALL"),
             removed(1614, 2136, 112, 214, "TEACHING")]
    [title] = join_text_lines(parts)
    assert title.bbox == (1100, 112, 2136, 214)
    assert title.text_removed == ["LILY", "HALL", "TEACHING"] and title.removed_px == 30


def test_changes_on_other_lines_of_other_sizes_or_kinds_stay_apart() -> None:
    note = removed(100, 180, 100, 108, "SEE", "DETAIL")
    below = removed(100, 180, 120, 128, "PATCH")  # the next line
    far = removed(200, 260, 100, 108, "FIELD")  # 20 pt on: another note on the row
    big = removed(184, 300, 90, 130, "TITLE")  # beside it, but five times its size
    added = Change("added", (182, 100, 200, 108), area=4.0, text_added=["NEW"], added_px=4)
    lines = Change("removed", (183, 100, 190, 108), area=4.0, removed_px=4)  # line work, no words
    out = join_text_lines([note, below, far, big, added, lines])
    assert len(out) == 6 and out[0] is note and note.bbox == (100, 100, 180, 108)


def test_joined_changes_keep_the_order_of_the_first() -> None:
    a, b, c = removed(500, 540, 10, 18, "B"), removed(100, 140, 10, 18, "A"), removed(545, 560, 10, 18, "C")
    out = join_text_lines([a, b, c])
    assert out == [a, b] and a.text_removed == ["B", "C"]
