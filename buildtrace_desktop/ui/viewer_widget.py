"""The sheet-pair viewer: side-by-side (synchronised), overlay (layers with visibility and opacity) and
swipe, over tiled page rendering. The widget observes `ViewerState`, its `LayerStack` and a
`ChangeListModel`; it keeps no view state of its own beyond what Qt needs to draw."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QGraphicsScene,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from buildtrace_desktop.ui.sheet_view import SheetView
from buildtrace_desktop.ui.tile_items import ChangeBoxesItem, PaperItem, SwipeLineItem, TiledPageItem
from buildtrace_desktop.ui.tile_store import RenderBudget, TileStore
from buildtrace_desktop.viewer.changes import ChangeItem, ChangeListModel
from buildtrace_desktop.viewer.layers import PALETTES, OverlayLayer
from buildtrace_desktop.viewer.state import MODE_TITLES, MODES, ViewerState
from buildtrace_desktop.viewer.tiles import PageSpec

ZOOM_STEP = 1.25


class PairViewer(QWidget):
    """Emits `statusMessage(str)` with the mouse position in sheet units."""

    statusMessage = Signal(str)

    def __init__(self, state: ViewerState | None = None, changes: ChangeListModel | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state if state is not None else ViewerState()
        self.changes = changes if changes is not None else ChangeListModel()
        self.store: TileStore | None = None
        self._budget = RenderBudget()
        self._syncing = False
        self._refresh = QTimer(self)  # another paint while tiles are still coarse
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(0)
        self._refresh.timeout.connect(self._repaint_views)
        self.old_scene = QGraphicsScene(self)
        self.main_scene = QGraphicsScene(self)
        self.old_view = SheetView(self.old_scene)
        self.main_view = SheetView(self.main_scene)
        for view in (self.old_view, self.main_view):
            view.on_paint_start = self._budget.start
        self.items: dict[str, TiledPageItem] = {}
        self.old_side_item: TiledPageItem | None = None
        self.boxes: ChangeBoxesItem | None = None
        self.swipe_line: SwipeLineItem | None = None
        self._build()
        self._observe_models()
        self._apply_mode(self.state.mode)

    # --- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self._build_toolbar())
        self.layer_bar = self._build_layer_bar()
        layout.addWidget(self.layer_bar)
        self.stack = QStackedWidget()
        self.placeholder = QLabel("Open a comparison and pick a sheet to see it here.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #666; font-size: 14px;")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.old_pane = self._captioned(self.old_view, "Old")
        self.new_pane = self._captioned(self.main_view, "New")
        self.splitter.addWidget(self.old_pane)
        self.splitter.addWidget(self.new_pane)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.splitter)
        layout.addWidget(self.stack, 1)
        self.swipe_slider = QSlider(Qt.Orientation.Horizontal)
        self.swipe_slider.setRange(0, 1000)
        self.swipe_slider.setValue(int(self.state.swipe * 1000))
        self.swipe_slider.setToolTip("Drag to reveal the new sheet (right of the line) over the old one")
        self.swipe_slider.valueChanged.connect(lambda v: setattr(self.state, "swipe", v / 1000))
        self.swipe_row = QWidget()
        row = QHBoxLayout(self.swipe_row)
        row.setContentsMargins(6, 0, 6, 0)
        row.addWidget(QLabel("Old"))
        row.addWidget(self.swipe_slider, 1)
        row.addWidget(QLabel("New"))
        layout.addWidget(self.swipe_row)
        self.position_label = QLabel(" ")
        self.position_label.setStyleSheet("color: #444; padding: 0 6px;")
        layout.addWidget(self.position_label)
        self._build_actions()

    def _captioned(self, view: SheetView, text: str) -> QWidget:
        pane = QWidget()
        box = QVBoxLayout(pane)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        caption = QLabel(text)
        caption.setStyleSheet("background: #303134; color: white; padding: 2px 6px; font-weight: bold;")
        box.addWidget(caption)
        box.addWidget(view, 1)
        pane.caption = caption  # type: ignore[attr-defined]
        return pane

    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        self.mode_buttons = QButtonGroup(self)
        for number, mode in enumerate(MODES, start=1):
            button = QToolButton()
            button.setText(MODE_TITLES[mode])
            button.setCheckable(True)
            button.setToolTip(f"{MODE_TITLES[mode]} (Ctrl+{number})")
            button.setObjectName(f"mode_{mode}")
            self.mode_buttons.addButton(button, number - 1)
            bar.addWidget(button)
        self.mode_buttons.idClicked.connect(lambda i: setattr(self.state, "mode", MODES[i]))
        bar.addSpacing(12)
        for text, tip, slot in (
            ("Fit", "Fit the sheet to the window (F)", self.fit),
            ("100 %", "Actual size (1)", self.zoom_actual),
            ("−", "Zoom out (-)", lambda: self.zoom_by(1 / ZOOM_STEP)),
            ("+", "Zoom in (+)", lambda: self.zoom_by(ZOOM_STEP)),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            bar.addWidget(button)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(52)
        bar.addWidget(self.zoom_label)
        self.sync_box = QCheckBox("Sync")
        self.sync_box.setToolTip("Pan and zoom both sides together")
        self.sync_box.setChecked(self.state.sync)
        self.sync_box.toggled.connect(lambda on: setattr(self.state, "sync", on))
        bar.addWidget(self.sync_box)
        bar.addStretch(1)
        self.palette_combo = QComboBox()
        self.palette_combo.setToolTip("Colours of the overlay")
        # Sized to a short name: the full names would make the window wider than a laptop screen.
        self.palette_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.palette_combo.setMinimumContentsLength(12)
        for palette in PALETTES.values():
            self.palette_combo.addItem(palette.title, palette.name)
        self.palette_combo.setCurrentIndex(self.palette_combo.findData(self.state.palette))
        self.palette_combo.currentIndexChanged.connect(
            lambda i: setattr(self.state, "palette", self.palette_combo.itemData(i))
        )
        bar.addWidget(self.palette_combo)
        return bar

    def _build_layer_bar(self) -> QWidget:
        # Two layers a row: four in one row would make the window wider than a laptop screen.
        bar = QWidget()
        grid = QGridLayout(bar)
        grid.setContentsMargins(6, 0, 6, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(0)
        self.layer_controls: dict[str, tuple[QCheckBox, QSlider, QLabel]] = {}
        for layer in self.state.layers:
            swatch = QLabel()
            swatch.setFixedSize(14, 14)
            check = QCheckBox(layer.title)
            check.setChecked(layer.visible)
            check.setObjectName(f"layer_visible_{layer.name}")
            check.toggled.connect(lambda on, lay=layer: setattr(lay, "visible", on))
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, 100)
            slider.setValue(round(layer.opacity * 100))
            slider.setFixedWidth(70)
            slider.setToolTip(f"Opacity of '{layer.title}'")
            slider.setObjectName(f"layer_opacity_{layer.name}")
            slider.valueChanged.connect(lambda v, lay=layer: setattr(lay, "opacity", v / 100))
            index = len(self.layer_controls)
            r, c = divmod(index, 2)
            grid.addWidget(swatch, r, 4 * c)
            grid.addWidget(check, r, 4 * c + 1)
            grid.addWidget(slider, r, 4 * c + 2)
            self.layer_controls[layer.name] = (check, slider, swatch)
            self._show_swatch(layer.name, layer.colour)
        grid.setColumnMinimumWidth(3, 16)
        grid.setColumnStretch(7, 1)
        return bar

    def _build_actions(self) -> None:
        def add(text: str, keys: list[str], slot) -> QAction:  # noqa: ANN001 - any callable
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            return action

        self.actions_by_name = {
            "fit": add("Fit to window", ["F"], self.fit),
            "actual": add("Zoom 100 %", ["1"], self.zoom_actual),
            "zoom_in": add("Zoom in", ["+", "=", "Ctrl++"], lambda: self.zoom_by(ZOOM_STEP)),
            "zoom_out": add("Zoom out", ["-", "Ctrl+-"], lambda: self.zoom_by(1 / ZOOM_STEP)),
            "next": add("Next change", ["N"], self.changes.next),
            "previous": add("Previous change", ["P"], self.changes.previous),
        }
        for number, mode in enumerate(MODES, start=1):
            self.actions_by_name[mode] = add(
                MODE_TITLES[mode], [f"Ctrl+{number}", f"Alt+{number}"],
                lambda _=False, m=mode: setattr(self.state, "mode", m),
            )

    # --- model observation -------------------------------------------------------------------------
    def _observe_models(self) -> None:
        events = self.state.events
        events.mode.connect(self._apply_mode)
        events.zoom.connect(lambda _z: self._apply_view())
        events.center.connect(lambda _c: self._apply_view())
        events.sync.connect(self._apply_sync)
        events.swipe.connect(self._apply_swipe)
        events.palette.connect(self._apply_palette)
        for layer in self.state.layers:
            layer.events.visible.connect(lambda _v, lay=layer: self._apply_layer(lay))
            layer.events.opacity.connect(lambda _v, lay=layer: self._apply_layer(lay))
            layer.events.colour.connect(lambda _v, lay=layer: self._apply_colour(lay))
        self.changes.events.reset.connect(self._apply_changes)
        self.changes.events.inserted.connect(lambda *_: self._apply_changes())
        self.changes.events.removed.connect(lambda *_: self._apply_changes())
        self.changes.events.current.connect(self._apply_current)
        self.main_view.viewChanged.connect(self._main_view_changed)
        self.old_view.userViewChanged.connect(self._old_view_changed)
        self.main_view.mouseMoved.connect(self._show_position)
        self.old_view.mouseMoved.connect(self._show_position)

    def disconnect_models(self) -> None:
        """Stop listening (the models may outlive this widget)."""
        for signal in vars(self.state.events).values():
            signal.disconnect()
        for layer in self.state.layers:
            layer.events.disconnect_all()
        for signal in vars(self.changes.events).values():
            signal.disconnect()

    # --- opening a pair ----------------------------------------------------------------------------
    def open_pair(self, old: PageSpec | None, new: PageSpec, changes: list[ChangeItem] | None = None,
                  old_title: str = "Old", new_title: str = "New") -> None:
        """Show a sheet pair. `new` defines the scene (NEW-page points); `old` carries the alignment."""
        self.close_pair()
        colours = {layer.name: layer.colour for layer in self.state.layers}
        self.store = TileStore(old, new, colours)
        width, height = self.store.page_size
        for scene in (self.old_scene, self.main_scene):
            scene.setSceneRect(0, 0, width, height)
        self.old_scene.addItem(PaperItem(width, height))
        self.old_side_item = TiledPageItem(self.store, "old", self._budget, self._refresh.start)
        self.old_scene.addItem(self.old_side_item)
        self.paper = PaperItem(width, height)
        self.main_scene.addItem(self.paper)
        for z, kind in enumerate(("old", "new", "common", "old_only", "new_only"), start=1):
            item = TiledPageItem(self.store, kind, self._budget, self._refresh.start)
            item.setZValue(z)
            self.main_scene.addItem(item)
            self.items[kind] = item
        self.boxes = ChangeBoxesItem(width, height)
        self.boxes.setZValue(40)
        self.main_scene.addItem(self.boxes)
        self.swipe_line = SwipeLineItem(height)
        self.main_scene.addItem(self.swipe_line)
        self.old_pane.caption.setText(old_title)  # type: ignore[attr-defined]
        self.new_pane.caption.setText(new_title)  # type: ignore[attr-defined]
        self.stack.setCurrentWidget(self.splitter)
        if changes is not None:
            self.changes.reset(changes)
        else:
            self._apply_changes()
        self._apply_mode(self.state.mode)
        for layer in self.state.layers:
            self._apply_layer(layer)
        self._apply_colour(self.state.layers["changes"])
        self._apply_swipe(self.state.swipe)
        self.fit()

    def _repaint_views(self) -> None:
        for view in (self.main_view, self.old_view):
            if view.isVisible():
                view.viewport().update()

    def close_pair(self) -> None:
        """Drop the scene items and the tiles of the current pair (memory goes back with them)."""
        self._refresh.stop()
        for scene in (self.old_scene, self.main_scene):
            scene.clear()
        self.items = {}
        self.old_side_item = None
        self.boxes = None
        self.swipe_line = None
        if self.store is not None:
            self.store.close()
            self.store = None
        self.stack.setCurrentWidget(self.placeholder)

    @property
    def has_pair(self) -> bool:
        return self.store is not None

    # --- commands ----------------------------------------------------------------------------------
    def fit(self) -> None:
        if self.has_pair:
            self.main_view.fit()
            if self.old_pane.isVisible() and not self.state.sync:
                self.old_view.fit()

    def zoom_actual(self) -> None:
        """100 %: one inch of sheet is one inch on screen (logical DPI)."""
        if self.has_pair:
            zoom = self.logicalDpiX() / 72.0
            c = self.main_view.center()
            self.main_view.set_view(zoom, c.x(), c.y())

    def zoom_by(self, factor: float) -> None:
        if self.has_pair:
            self.main_view.zoom_by(factor)

    def zoom_to_change(self, index: int) -> None:
        if self.has_pair and 0 <= index < len(self.changes):
            self.main_view.zoom_to_box(self.changes[index].bbox)

    def wait_until_rendered(self, process_events, rounds: int = 200) -> None:  # noqa: ANN001 - callable
        """Process events until no tile is drawn coarse (for tests, screenshots and the benchmark)."""
        for _ in range(rounds):
            process_events()
            items = [*self.items.values(), self.old_side_item]
            if not any(item is not None and item.isVisible() and item.pending for item in items):
                return

    # --- reactions ---------------------------------------------------------------------------------
    def _apply_mode(self, mode: str) -> None:
        self.mode_buttons.button(MODES.index(mode)).setChecked(True)
        side = mode == "side_by_side"
        self.old_pane.setVisible(side)
        self.sync_box.setEnabled(side)
        self.layer_bar.setVisible(mode == "overlay")
        self.swipe_row.setVisible(mode == "swipe")
        if self.items:
            layers = self.state.layers
            self.items["old"].setVisible(mode == "swipe")
            self.items["new"].setVisible(mode in ("side_by_side", "swipe"))
            for kind in ("old_only", "new_only", "common"):
                self.items[kind].setVisible(mode == "overlay" and layers[kind].visible)
            self.swipe_line.setVisible(mode == "swipe")
            self.items["new"].set_clip_left(self._swipe_x() if mode == "swipe" else 0.0)
            self.swipe_line.setPos(self._swipe_x(), 0)
            if side:
                self.splitter.setSizes([1, 1])
                c = self.main_view.center()
                self.old_view.set_view(self.main_view.zoom, c.x(), c.y(), announce=False)
        self.new_pane.caption.setVisible(side)  # type: ignore[attr-defined]

    def _apply_layer(self, layer: OverlayLayer) -> None:
        check, slider, _ = self.layer_controls[layer.name]
        check.blockSignals(True)
        check.setChecked(layer.visible)
        check.blockSignals(False)
        slider.blockSignals(True)
        slider.setValue(round(layer.opacity * 100))
        slider.blockSignals(False)
        if layer.name == "changes":
            if self.boxes is not None:
                self.boxes.setVisible(layer.visible)
                self.boxes.setOpacity(layer.opacity)
            return
        item = self.items.get(layer.name)
        if item is not None:
            item.setVisible(self.state.mode == "overlay" and layer.visible)
            item.setOpacity(layer.opacity)

    def _apply_colour(self, layer: OverlayLayer) -> None:
        self._show_swatch(layer.name, layer.colour)
        if layer.name == "changes":
            if self.boxes is not None:
                self.boxes.set_colour(layer.colour)
        elif self.store is not None:
            self.store.set_colour(layer.name, layer.colour)
            self.items[layer.name].update()

    def _apply_palette(self, name: str) -> None:
        self.palette_combo.blockSignals(True)
        self.palette_combo.setCurrentIndex(self.palette_combo.findData(name))
        self.palette_combo.blockSignals(False)

    def _show_swatch(self, name: str, colour: str) -> None:
        swatch = self.layer_controls[name][2]
        pixmap = QPixmap(14, 14)
        pixmap.fill(QColor(colour))
        swatch.setPixmap(pixmap)

    def _swipe_x(self) -> float:
        return self.state.swipe * (self.store.page_size[0] if self.store else 0.0)

    def _apply_swipe(self, fraction: float) -> None:
        self.swipe_slider.blockSignals(True)
        self.swipe_slider.setValue(round(fraction * 1000))
        self.swipe_slider.blockSignals(False)
        if self.items and self.state.mode == "swipe":
            x = self._swipe_x()
            self.items["new"].set_clip_left(x)
            self.swipe_line.setPos(x, 0)

    def _apply_changes(self) -> None:
        if self.boxes is not None:
            self.boxes.set_changes(list(self.changes))
            self.boxes.set_current(self.changes.current)

    def _apply_current(self, index: int) -> None:
        if self.boxes is not None:
            self.boxes.set_current(index)
        if index >= 0:
            self.zoom_to_change(index)

    def _apply_sync(self, on: bool) -> None:
        self.sync_box.blockSignals(True)
        self.sync_box.setChecked(on)
        self.sync_box.blockSignals(False)
        if on:
            self._apply_view()

    def _main_view_changed(self, zoom: float, cx: float, cy: float) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.state.zoom = zoom
            self.state.center = (cx, cy)
            self.zoom_label.setText(f"{zoom * 72 / max(1, self.logicalDpiX()) * 100:.0f} %")
            if self.state.sync and self.old_pane.isVisible():
                self.old_view.set_view(zoom, cx, cy, announce=False)
        finally:
            self._syncing = False

    def _old_view_changed(self, zoom: float, cx: float, cy: float) -> None:
        if self._syncing or not self.state.sync:
            return
        self._syncing = True
        try:
            self.main_view.set_view(zoom, cx, cy, announce=False)
            self.state.zoom = zoom
            self.state.center = (cx, cy)
        finally:
            self._syncing = False

    def _apply_view(self) -> None:
        """The model's zoom/centre changed from outside (or sync came back on): move the views."""
        if self._syncing or not self.has_pair:
            return
        self._syncing = True
        try:
            zoom, (cx, cy) = self.state.zoom, self.state.center
            self.main_view.set_view(zoom, cx, cy, announce=False)
            if self.state.sync:
                self.old_view.set_view(zoom, cx, cy, announce=False)
        finally:
            self._syncing = False

    def _show_position(self, x: float, y: float) -> None:
        text = f"x {x:.0f} pt ({x / 72:.2f} in), y {y:.0f} pt ({y / 72:.2f} in)"
        self.position_label.setText(text)
        self.statusMessage.emit(text)

    def scene_point(self, x: float, y: float) -> QPointF:
        return QPointF(x, y)
