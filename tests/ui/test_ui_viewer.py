"""The sheet-pair viewer on the real sample sheet (42 x 30 in): tiles on demand, modes, sync, layers,
swipe, shortcuts and zoom to a change."""
from __future__ import annotations

import json
import re

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication
from ui_helpers import NEW_PDF, OLD_PDF, SAMPLE

from buildtrace_desktop.ui.tile_store import PIXMAP_BUDGET_BYTES
from buildtrace_desktop.ui.viewer_widget import PairViewer
from buildtrace_desktop.viewer.changes import ChangeItem
from buildtrace_desktop.viewer.tiles import PageSpec


def truth_changes(sheet: int = 0) -> list[ChangeItem]:
    truth = json.loads((SAMPLE / "truth.json").read_text())["sheets"][sheet]
    return [
        ChangeItem(i + 1, c["kind"], tuple(c["bbox"]), truth["sheet_number"], (3024.0, 2160.0),
                   tuple(c.get("text_removed", [])), tuple(c.get("text_added", [])))
        for i, c in enumerate(truth["changes"])
    ]


@pytest.fixture
def viewer(qtbot):  # noqa: ANN001, ANN201
    widget = PairViewer()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    qtbot.waitExposed(widget)
    widget.open_pair(PageSpec.of(str(OLD_PDF), 0), PageSpec.of(str(NEW_PDF), 0), truth_changes(), "Old", "New")
    widget.wait_until_rendered(QApplication.processEvents)
    yield widget
    widget.close_pair()


def rendered(viewer: PairViewer) -> None:
    viewer.wait_until_rendered(QApplication.processEvents)


def test_fit_renders_a_few_coarse_tiles_not_the_full_sheet(viewer: PairViewer) -> None:
    page = viewer.main_view.visible_scene_rect()
    assert page.contains(viewer.main_scene.sceneRect().adjusted(1, 1, -1, -1))  # whole sheet visible
    # fit zoom is about 0.37 px/pt: level -1 (0.5 px/pt) is 3 x 3 tiles a page, plus the coarsest level,
    # for the old and the new page; a full-detail render would be hundreds of tiles
    assert viewer.store.rendered <= 2 * (3 * 3 + 1)
    one_sheet_rgb_at_150_dpi = round(42 * 150) * round(30 * 150) * 3
    assert viewer.store.cached_bytes < one_sheet_rgb_at_150_dpi / 2


def test_zooming_in_renders_only_visible_full_detail_tiles(viewer: PairViewer) -> None:
    before = viewer.store.rendered
    viewer.main_view.set_view(4.0, 1500, 700)  # 288 DPI around the centre of a 42 x 30 in sheet
    rendered(viewer)
    new_tiles = viewer.store.rendered - before
    assert 0 < new_tiles <= 3 * 20  # old + new gray tiles of the visible area only (page: 24 x 17 tiles)
    # panning across the whole sheet at full detail keeps the cache within its budget
    for x in range(0, 3024, 400):
        viewer.main_view.set_view(4.0, x, 1080)
        rendered(viewer)
    assert viewer.store.cached_bytes <= PIXMAP_BUDGET_BYTES + (24 << 20)


def test_modes_show_the_right_items(viewer: PairViewer, qtbot) -> None:  # noqa: ANN001
    viewer.state.mode = "side_by_side"
    assert viewer.old_pane.isVisible() and viewer.items["new"].isVisible()
    assert not viewer.items["old_only"].isVisible()
    viewer.state.mode = "overlay"
    assert not viewer.old_pane.isVisible() and viewer.layer_bar.isVisible()
    assert all(viewer.items[k].isVisible() for k in ("old_only", "new_only", "common"))
    assert not viewer.items["new"].isVisible()
    viewer.state.mode = "swipe"
    assert viewer.items["old"].isVisible() and viewer.items["new"].isVisible() and viewer.swipe_row.isVisible()
    qtbot.mouseClick(viewer.mode_buttons.button(1), Qt.MouseButton.LeftButton)
    assert viewer.state.mode == "overlay"


def test_side_by_side_views_pan_and_zoom_together_unless_sync_is_off(viewer: PairViewer) -> None:
    viewer.state.mode = "side_by_side"
    rendered(viewer)
    viewer.main_view.set_view(2.0, 1000, 800)
    assert viewer.old_view.zoom == pytest.approx(2.0)
    assert viewer.old_view.center().x() == pytest.approx(1000, abs=2)
    viewer.old_view.zoom_by(1.5)  # a user zoom in the old view (as from the wheel) moves the new one
    viewer.old_view._announce_user()
    assert viewer.main_view.zoom == pytest.approx(3.0)
    viewer.sync_box.setChecked(False)
    assert viewer.state.sync is False
    viewer.main_view.set_view(1.0, 500, 500)
    assert viewer.old_view.zoom == pytest.approx(3.0)  # stayed
    viewer.sync_box.setChecked(True)
    assert viewer.old_view.zoom == pytest.approx(1.0)  # caught up with the model


def test_layer_controls_and_model_stay_in_step(viewer: PairViewer) -> None:
    check, slider, _ = viewer.layer_controls["old_only"]
    slider.setValue(30)
    assert viewer.state.layers["old_only"].opacity == pytest.approx(0.3)
    assert viewer.items["old_only"].opacity() == pytest.approx(0.3)
    viewer.state.layers["common"].visible = False  # the model changes: the widget follows
    assert not viewer.layer_controls["common"][0].isChecked()
    assert not viewer.items["common"].isVisible()
    check.setChecked(False)
    assert viewer.state.layers["old_only"].visible is False
    viewer.state.layers["changes"].visible = False
    assert not viewer.boxes.isVisible()


def test_palette_switch_recolours_the_overlay_tiles(viewer: PairViewer) -> None:
    viewer.main_view.set_view(2.0, 1486, 698)  # the changed dimension 167 -> 175
    rendered(viewer)
    image = viewer.main_view.grab().toImage()
    def has_colour(rgb: tuple[int, int, int]) -> bool:
        for y in range(0, image.height(), 2):
            for x in range(0, image.width(), 2):
                c = image.pixelColor(x, y)
                if abs(c.red() - rgb[0]) < 40 and abs(c.green() - rgb[1]) < 40 and abs(c.blue() - rgb[2]) < 40:
                    return True
        return False
    assert has_colour((0xD6, 0x27, 0x28))  # old-only ink in the default red
    viewer.palette_combo.setCurrentIndex(viewer.palette_combo.findData("colour_blind"))
    assert viewer.state.palette == "colour_blind"
    rendered(viewer)
    image = viewer.main_view.grab().toImage()
    assert has_colour((0xD5, 0x5E, 0x00))  # now vermillion


def test_swipe_reveals_new_right_of_the_line(viewer: PairViewer) -> None:
    viewer.state.mode = "swipe"
    viewer.swipe_slider.setValue(250)
    assert viewer.state.swipe == pytest.approx(0.25)
    assert viewer.swipe_line.pos().x() == pytest.approx(0.25 * 3024)
    assert viewer.items["new"]._clip_left == pytest.approx(0.25 * 3024)


def test_next_change_key_centres_the_view_on_its_box(viewer: PairViewer, qtbot) -> None:  # noqa: ANN001
    viewer.main_view.setFocus()
    qtbot.keyClick(viewer.main_view, Qt.Key.Key_N)
    assert viewer.changes.current == 0
    box = viewer.changes[0].bbox
    visible = viewer.main_view.visible_scene_rect()
    assert visible.contains(QPointF((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
    assert abs(visible.center().x() - (box[0] + box[2]) / 2) < 5
    assert visible.width() < 1000  # zoomed in on it, not the whole 3024-point sheet
    qtbot.keyClick(viewer.main_view, Qt.Key.Key_P)
    assert viewer.changes.current == len(viewer.changes) - 1
    qtbot.keyClick(viewer.main_view, Qt.Key.Key_F)
    assert viewer.main_view.visible_scene_rect().width() >= 3024
    qtbot.keyClick(viewer.main_view, Qt.Key.Key_1)  # 100 %: one sheet inch per screen inch
    assert viewer.main_view.zoom == pytest.approx(viewer.logicalDpiX() / 72)
    qtbot.keyClick(viewer.main_view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert viewer.state.mode == "swipe"


def test_wheel_zooms_and_mouse_position_shows_in_sheet_units(viewer: PairViewer, qtbot) -> None:  # noqa: ANN001
    view = viewer.main_view
    target = view.mapFromScene(QPointF(720, 360))
    qtbot.mouseMove(view.viewport(), target)
    text = viewer.position_label.text()  # 'x 721 pt (10.01 in), y 361 pt (5.01 in)'
    x_pt, x_in, y_pt, y_in = (float(v) for v in re.findall(r"[\d.]+", text))
    assert abs(x_pt - 720) < 3 and abs(x_in - 10) < 0.05
    assert abs(y_pt - 360) < 3 and abs(y_in - 5) < 0.05
    from PySide6.QtGui import QWheelEvent

    before = view.zoom
    event = QWheelEvent(QPointF(target), QPointF(view.viewport().mapToGlobal(target)), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom == pytest.approx(before * 1.25**2)
    anchor = view.mapToScene(target)
    assert abs(anchor.x() - 720) < 3 and abs(anchor.y() - 360) < 3  # the point under the mouse stays put


def test_an_added_sheet_without_an_old_page_shows_blank_old(qtbot) -> None:  # noqa: ANN001
    widget = PairViewer()
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    widget.open_pair(None, PageSpec.of(str(NEW_PDF), 1), [], "Old: none", "New")
    widget.wait_until_rendered(QApplication.processEvents)
    assert widget.store.old_source is None and widget.store.rendered > 0
    widget.close_pair()
    assert widget.store is None and widget.stack.currentWidget() is widget.placeholder
