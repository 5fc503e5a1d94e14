"""The main window on a pair the engine grouped: the change tree opens on its groups, a group row shows the
whole group in the viewer, the pairing's notes reach the status bar; an old pair shows a flat list."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from test_ui_main_window import open_sample_comparison

from buildtrace_desktop.db.models import ChangeRow, SheetPair
from buildtrace_desktop.services import projects

NOTE = "read AF-600 on the new sheet, paired with AF600 (by looks), confidence 0.62"


def _group_the_largest_pair(window) -> tuple[int, int]:  # noqa: ANN001
    """Store groups on the sample's pair with most changes: a cloud around the first three, the rest but
    the last as one object, the last alone. Returns the pair id and its number of changes."""
    comparison_id = open_sample_comparison(window)
    pair = max(projects.list_pairs(window.app, comparison_id),
               key=lambda p: len(projects.list_changes(window.app, p.id)))
    rows = projects.list_changes(window.app, pair.id)
    count = len(rows)
    assert count >= 5
    groups = [
        {"id": 1, "label": "revision cloud 3: 2 changes inside", "bbox": [100.0, 400.0, 1000.0, 800.0],
         "cloud": 1, "changes": [1, 2, 3]},
        {"id": 2, "label": f"{count - 4} changes: line work", "bbox": [1200.0, 800.0, 1520.0, 1400.0],
         "cloud": None, "changes": list(range(4, count))},
        {"id": 3, "label": "dimension added", "bbox": list(rows[-1].bbox), "cloud": None, "changes": [count]},
    ]
    with window.app.db.write() as s:
        stored = s.get(SheetPair, pair.id)
        stored.groups_json = groups
        stored.clouds_json = [{"id": 1, "bbox": groups[0]["bbox"], "tag": "3", "status": "added", "change": 1,
                               "changes": [2, 3]}]
        stored.match_notes_json = [NOTE]
        stored.new_number = "AF-600"
        first = s.get(ChangeRow, rows[0].id)
        first.what, first.tag = "revision cloud added", "3"
    window.pair_id = None
    window.open_pair(pair.id)
    return pair.id, count


def test_a_grouped_pair_opens_on_its_groups_and_a_group_row_shows_the_whole_group(qtbot, window) -> None:  # noqa: ANN001
    _pair_id, count = _group_the_largest_pair(window)
    panel, viewer = window.change_panel, window.viewer
    model = panel.tree_model
    assert model.rowCount() == 3
    assert [model.index(r, 1).data() for r in range(3)][:2] == [
        "revision cloud 3: 2 changes inside", f"{count - 4} changes: line work"]
    assert [model.rowCount(model.index(r, 0)) for r in range(3)] == [3, count - 4, 0]
    assert model.index(0, 1, model.index(0, 0)).data() == "revision cloud 3 added"
    assert panel.summary.text() == (f"{count} changes in 3 groups; 1 revision cloud; "
                                    f"{count - 3} changes outside any cloud")
    assert NOTE in window.statusBar().currentMessage()
    assert "AF-600" in viewer.new_pane.caption.text() and panel.title.text() == "Changes on AF-600"
    rect = panel.tree.visualRect(model.index(1, 1))
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.changes.current_group == 1 and window.changes.current == -1
    visible = viewer.main_view.visible_scene_rect()
    assert visible.contains(QPointF(1200, 800)) and visible.contains(QPointF(1520, 1400))  # all of the group
    assert abs(visible.center().x() - 1360) < 5 and abs(visible.center().y() - 1100) < 5
    assert visible.height() < 1000  # zoomed in on it, with a margin
    # N from the group: its first change, in the viewer and the review editor
    qtbot.keyClick(viewer.main_view, Qt.Key.Key_N)
    assert window.changes.current == 3 and panel.status_combo.isEnabled()
    panel.set_status("accepted")
    with window.app.db.read() as s:
        assert s.get(ChangeRow, window.changes[3].change_id).review_status == "accepted"
    assert model.index(1, 4).data() == f"1/{count - 4} reviewed"
    qtbot.keyClick(viewer.main_view, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)  # the next group
    assert window.changes.current == count - 1
    qtbot.keyClick(viewer.main_view, Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
    assert window.changes.current == 3


def test_an_old_pair_without_groups_shows_a_flat_list(window) -> None:  # noqa: ANN001
    pair_id, count = _group_the_largest_pair(window)
    with window.app.db.write() as s:
        stored = s.get(SheetPair, pair_id)
        stored.groups_json = stored.clouds_json = stored.match_notes_json = None
    window.pair_id = None
    window.open_pair(pair_id)
    model = window.change_panel.tree_model
    assert model.rowCount() == count
    assert all(model.rowCount(model.index(r, 0)) == 0 for r in range(count))
    assert [model.index(r, 0).data() for r in range(count)] == [str(i) for i in range(1, count + 1)]
    assert window.change_panel.summary.text() == f"{count} changes"
    window.changes.next_group()
    assert window.changes.current == 0
