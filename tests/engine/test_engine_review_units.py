"""What each change is, and the review groups a reviewer checks at once: clouds first, then objects."""
from __future__ import annotations

from buildtrace_desktop.processing.review_units import organise
from buildtrace_desktop.processing.types import Change
from buildtrace_desktop.processing.what import what_of

PAGE = (3024.0, 2160.0)


def test_what_each_change_is_in_a_reviewers_words() -> None:
    assert what_of("modified", ["26"], ["33"]) == "dimension changed"
    assert what_of("modified", ["331D"], ["334D"]) == "dimension changed"  # a value led by its number
    assert what_of("modified", ["PT-1"], ["PT-2"]) == "text changed"  # a tag led by letters
    assert what_of("added", [], ["PATCH", "AND", "PAINT"]) == "note added"
    assert what_of("removed", ["FIRST", "FLOOR", "PLAN"], []) == "text removed"
    assert what_of("added", [], []) == "line work added" and what_of("removed", [], []) == "line work removed"
    assert what_of("added", [], ["3"], cloud="added") == "revision cloud added"


def change(box, what="line work added") -> Change:
    return Change("added", box, 10.0, what=what)


def test_a_cloud_groups_the_changes_inside_it_and_comes_first() -> None:
    changes = [change((100, 100, 140, 120), "note added"),            # outside
               change((1000, 1000, 1300, 1200), "revision cloud added"),  # the cloud itself
               change((1050, 1050, 1100, 1080), "dimension changed"),   # inside
               change((1200, 1100, 1250, 1150))]                        # inside
    clouds = [{"id": 1, "bbox": [1000, 1000, 1300, 1200], "outline": (1000, 1000, 1300, 1200), "tag": "3",
               "status": "added", "change": 2}]
    ordered, clouds, groups = organise(changes, clouds, PAGE)
    assert [c.what for c in ordered[:3]] == ["revision cloud added", "dimension changed", "line work added"]
    assert groups[0]["label"] == "revision cloud 3: 2 changes inside" and groups[0]["changes"] == [1, 2, 3]
    assert clouds[0]["change"] == 1 and clouds[0]["changes"] == [2, 3]
    assert [c.cloud for c in ordered] == [None, 1, 1, None] and ordered[3].group == 2


def test_the_pieces_of_one_object_are_one_group_and_two_notes_stay_two() -> None:
    dashes = [change((500 + 12 * k, 300, 508 + 12 * k, 301)) for k in range(20)]  # one dashed line
    notes = [change((100, 800, 300, 812), "note added"), change((100, 860, 300, 872), "note added")]
    _ordered, _clouds, groups = organise(dashes + notes, [], PAGE)
    assert sorted(len(g["changes"]) for g in groups) == [1, 1, 20]
    assert any(g["label"] == "20 changes: line work added ×20" for g in groups)


def test_a_group_never_grows_past_the_size_of_an_object() -> None:
    grid = [change((100 + 30 * i, 100 + 30 * j, 120 + 30 * i, 120 + 30 * j)) for i in range(40) for j in range(40)]
    _ordered, _clouds, groups = organise(grid, [], PAGE)
    area = PAGE[0] * PAGE[1]
    assert len(groups) > 1
    assert all((g["bbox"][2] - g["bbox"][0]) * (g["bbox"][3] - g["bbox"][1]) <= 0.02 * area + 1 for g in groups)


def test_the_same_mark_made_in_many_places_is_one_group() -> None:
    """A tag added beside five doors across the sheet: one unit of the same mark; a symbol of another
    look, and a change of another size, stay apart."""
    import numpy as np

    from buildtrace_desktop.processing.review_units import mark_look

    page = np.full((2160, 3024), 255, np.uint8)
    tag, other = np.full((20, 36), 255, np.uint8), np.full((20, 36), 255, np.uint8)
    tag[2:18, 2:34] = 0
    tag[6:14, 8:28] = 255  # a box with a label
    other[:, 16:20] = 0  # a bar
    places = [(200, 300), (900, 1500), (1700, 400), (2500, 1900), (2800, 100)]
    for x, y in places:
        page[y:y + 20, x:x + 36] = tag
    page[1000:1020, 2000:2036] = other
    page[600:640, 1200:1272] = 0  # a larger mark
    changes = [change((x, y, x + 36, y + 20)) for x, y in places]
    changes += [change((2000, 1000, 2036, 1020)), change((1200, 600, 1272, 640))]
    looks = [mark_look(page, tuple(int(v) for v in c.bbox)) for c in changes]
    _ordered, _clouds, groups = organise(changes, [], PAGE, looks)
    assert len(groups) == 3, [g["label"] for g in groups]
    marks = [g for g in groups if g["label"].startswith("the same mark")]
    assert len(marks) == 1 and len(marks[0]["changes"]) == 5
    assert marks[0]["label"] == "the same mark in 5 places: line work added"
    assert len(organise(changes, [], PAGE)[2]) == 7  # without the pictures, seven lone changes
