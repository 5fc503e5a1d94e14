"""Review groups in the Qt-free change list: groups from the stored JSON, units, the summary line and
group navigation; an old pair without groups stays one flat list."""
from __future__ import annotations

from buildtrace_desktop.viewer.changes import ChangeItem, ChangeListModel, groups_from_json


def _item(change_id: int, what: str = "line work added", tag: str | None = None) -> ChangeItem:
    x = 20.0 * change_id
    return ChangeItem(change_id, "added", (x, 10.0, x + 5, 15.0), "A101", (600.0, 400.0), what=what, tag=tag)


def _cloud_sheet() -> tuple[list[ChangeItem], list[dict]]:
    """Seven changes (database ids 101..107): a cloud (its own change and two inside), a cloud with
    nothing inside, an object of three pieces, as the engine stores them (ids are 1-based positions)."""
    items = [_item(101, "revision cloud added", "3"), _item(102, "note added"), _item(103, "dimension changed"),
             _item(104, "revision cloud added", "4"), _item(105), _item(106), _item(107, "note added")]
    groups = [
        {"id": 1, "label": "revision cloud 3: 2 changes inside", "bbox": [10, 5, 80, 20], "cloud": 1,
         "changes": [1, 2, 3]},
        {"id": 2, "label": "revision cloud 4: nothing changed inside", "bbox": [75, 5, 90, 20], "cloud": 2,
         "changes": [4]},
        {"id": 3, "label": "3 changes: line work added ×2, note added", "bbox": [95, 5, 150, 20], "cloud": None,
         "changes": [5, 6, 7]},
    ]
    return items, groups


def test_groups_from_json_hold_the_changes_own_ids_and_units_follow_the_list() -> None:
    items, stored = _cloud_sheet()
    groups = groups_from_json(stored, items)
    assert [g.change_ids for g in groups] == [(101, 102, 103), (104,), (105, 106, 107)]
    assert [g.cloud for g in groups] == [1, 2, None] and groups[0].bbox == (10.0, 5.0, 80.0, 20.0)
    model = ChangeListModel(items, groups)
    assert [(u.group, u.members) for u in model.units] == [(0, (0, 1, 2)), (1, (3,)), (2, (4, 5, 6))]
    assert model.summary_line() == "7 changes in 3 groups; 2 revision clouds; 3 changes outside any cloud"
    assert items[0].title == "revision cloud 3 added"
    model.remove(1)  # a change gone: its group keeps the others, the units move up
    assert [u.members for u in model.units] == [(0, 1), (2,), (3, 4, 5)]


def test_group_navigation_jumps_to_the_first_change_of_the_next_and_previous_unit() -> None:
    items, stored = _cloud_sheet()
    model = ChangeListModel(items, groups_from_json(stored, items))
    assert model.next_group() == 0  # nothing current: the first unit
    model.current = 1  # inside the first cloud
    assert model.next_group() == 3
    assert model.next_group() == 4
    assert model.next_group() == 0  # wraps
    assert model.previous_group() == 4
    assert [model.next(), model.next(), model.next()] == [5, 6, 0]  # N / P still walk every change


def test_a_group_picked_as_a_whole_has_no_current_change_and_n_enters_it() -> None:
    items, stored = _cloud_sheet()
    model = ChangeListModel(items, groups_from_json(stored, items))
    picked: list[int] = []
    current: list[int] = []
    model.events.current_group.connect(picked.append)
    model.events.current.connect(current.append)
    model.current = 1
    model.current_group = 2
    assert (model.current, model.current_group) == (-1, 2)
    assert picked == [2] and current == [1, -1]
    assert model.next() == 4  # the group's first change
    assert model.current_group == -1 and picked == [2, -1]
    model.current_group = 2
    assert model.previous() == 3  # the change before the group
    assert model.reviewed_count(model.units[2].members) == 0
    model.update(5, status="accepted")
    assert model.reviewed_count(model.units[2].members) == 1


def test_an_old_pair_without_groups_is_one_flat_list() -> None:
    items = [ChangeItem(i, "added", (10.0 * i, 10.0, 10.0 * i + 5, 15.0)) for i in (7, 8, 9)]
    assert groups_from_json(None, items) == []
    model = ChangeListModel()
    model.reset(items, groups_from_json(None, items))
    assert all(unit.single and unit.group == -1 for unit in model.units) and len(model.units) == 3
    assert model.summary_line() == "3 changes"
    assert [model.next_group(), model.next_group(), model.previous_group()] == [0, 1, 0]
    assert items[0].title == "added"  # no `what` stored: the kind


def test_groups_from_json_skips_positions_out_of_range_and_empty_groups() -> None:
    items = [_item(1), _item(2)]
    stored = [{"id": 1, "label": "2 changes", "changes": [1, 2, 9]}, {"id": 2, "label": "gone", "changes": [5]}]
    groups = groups_from_json(stored, items)
    assert len(groups) == 1 and groups[0].change_ids == (1, 2)
    assert groups[0].bbox == (20.0, 10.0, 45.0, 15.0)  # no bbox stored: the changes' union
