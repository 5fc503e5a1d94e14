"""The change panel's tree: groups with their changes and counts, a group of one change shown flat, the
review editor on a change row, a group row picked as a whole, and an old pair's flat list."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from test_ui_review_groups import _cloud_sheet, _item

from buildtrace_desktop.ui.change_list import ChangeListPanel
from buildtrace_desktop.viewer.changes import ChangeItem, ChangeListModel, groups_from_json


@pytest.fixture
def saved() -> list[tuple[int, str, str]]:
    return []


@pytest.fixture
def panel(qtbot, saved):  # noqa: ANN001, ANN201
    items, stored = _cloud_sheet()
    changes = ChangeListModel()
    widget = ChangeListPanel(changes, lambda *review: saved.append(review))
    qtbot.addWidget(widget)
    widget.resize(480, 600)
    widget.show()
    qtbot.waitExposed(widget)
    changes.reset(items, groups_from_json(stored, items))
    return widget


def _texts(model, row: int, parent: QModelIndex | None = None) -> list[str]:  # noqa: ANN001
    parent = parent if parent is not None else QModelIndex()
    return [model.index(row, column, parent).data() for column in range(model.columnCount())]


def test_the_tree_shows_groups_with_their_counts_and_opens_on_a_short_list(panel) -> None:  # noqa: ANN001
    model, tree = panel.tree_model, panel.tree
    assert model.rowCount() == 3
    cloud = model.index(0, 0)
    assert _texts(model, 0) == ["1–3", "revision cloud 3: 2 changes inside", "", "", "0/3 reviewed"]
    assert model.rowCount(cloud) == 3 and tree.isExpanded(cloud) and tree.isFirstColumnSpanned(0, QModelIndex())
    assert _texts(model, 0, cloud)[:3] == ["1", "revision cloud 3 added", ""]
    assert _texts(model, 1, cloud)[1] == "note added"  # the what, not the bare kind
    obj = model.index(2, 0)
    assert _texts(model, 2)[:2] == ["5–7", "3 changes: line work added ×2, note added"]
    assert model.rowCount(obj) == 3 and tree.isExpanded(obj)
    assert panel.summary.text() == "7 changes in 3 groups; 2 revision clouds; 3 changes outside any cloud"


def test_a_group_of_one_change_is_just_that_change(panel) -> None:  # noqa: ANN001
    model = panel.tree_model
    lone = model.index(1, 0)
    assert model.rowCount(lone) == 0 and model.change_at(lone) == 3 and model.group_at(lone) == -1
    assert not panel.tree.isFirstColumnSpanned(1, QModelIndex())
    # a cloud alone in its group says what its group says
    assert _texts(model, 1)[:2] == ["4", "revision cloud 4: nothing changed inside"]
    assert _texts(model, 1)[4] == "Open"


def test_clicking_a_change_row_reviews_it_through_the_callback(qtbot, panel, saved) -> None:  # noqa: ANN001
    model, tree = panel.tree_model, panel.tree
    rect = tree.visualRect(model.index_of_change(1, 3))
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.changes.current == 1 and panel.status_combo.isEnabled()
    assert "note added" in panel.detail.text()
    panel.note_edit.setText("ask the architect")
    panel.set_status("needs_rfi")
    assert saved == [(102, "needs_rfi", "ask the architect")]
    assert model.index_of_change(1, 4).data() == "Needs RFI: ask the architect"
    assert model.index(0, 4).data() == "1/3 reviewed"  # the group's progress follows


def test_selecting_a_group_row_picks_the_whole_group(qtbot, panel, saved) -> None:  # noqa: ANN001
    changes, model, tree = panel.changes, panel.tree_model, panel.tree
    picked: list[int] = []
    changes.events.current_group.connect(picked.append)
    changes.current = 1
    panel.note_edit.setText("typed, then a group")
    rect = tree.visualRect(model.index(2, 1))
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert picked == [2] and changes.current == -1
    assert saved == [(102, "open", "typed, then a group")]  # the typed note is not lost
    assert not panel.status_combo.isEnabled()
    assert "3 changes: line work added ×2, note added" in panel.detail.text()
    assert tree.currentIndex().row() == 2 and not tree.currentIndex().parent().isValid()
    assert changes.next() == 4  # N enters the group
    assert tree.currentIndex().parent().row() == 2 and tree.currentIndex().row() == 0


def test_group_keys_jump_by_group_and_a_long_list_opens_collapsed(qtbot, panel) -> None:  # noqa: ANN001
    items = [_item(i) for i in range(1, 31)]  # 30 changes: above the limit for opening the groups
    stored = [{"id": g + 1, "label": f"group {g + 1}", "changes": list(range(10 * g + 1, 10 * g + 11))}
              for g in range(3)]
    panel.changes.reset(items, groups_from_json(stored, items))
    model, tree = panel.tree_model, panel.tree
    assert model.rowCount() == 3 and not any(tree.isExpanded(model.index(r, 0)) for r in range(3))
    panel.actions_by_name["next_group"].trigger()
    assert panel.changes.current == 0
    panel.actions_by_name["next_group"].trigger()
    assert panel.changes.current == 10
    assert tree.isExpanded(model.index(1, 0)) and not tree.isExpanded(model.index(2, 0))  # opened to show it
    panel.actions_by_name["previous_group"].trigger()
    assert panel.changes.current == 0
    assert panel.summary.text() == "30 changes in 3 groups"


def test_an_old_pair_without_groups_is_a_flat_list(panel) -> None:  # noqa: ANN001
    items = [ChangeItem(i, kind, (10.0 * i, 10.0, 10.0 * i + 5, 15.0)) for i, kind in
             ((7, "added"), (8, "removed"), (9, "modified"))]
    panel.changes.reset(items, groups_from_json(None, items))
    model = panel.tree_model
    assert model.rowCount() == 3 and all(model.rowCount(model.index(r, 0)) == 0 for r in range(3))
    assert [model.index(r, 1).data() for r in range(3)] == ["added", "removed", "modified"]
    assert not panel.tree.rootIsDecorated()
    assert panel.summary.text() == "3 changes"


def test_a_closed_panel_no_longer_follows_the_list(panel) -> None:  # noqa: ANN001
    events = panel.changes.events
    assert len(events.reset) == 2  # the tree model and the panel
    panel.close()
    assert [len(signal) for signal in vars(events).values()] == [0] * len(vars(events))
