"""A QGraphicsView over one sheet scene: wheel zoom under the mouse, drag to pan, fit, 100 %, zoom to a box.

Scene units are NEW-page points; `zoom` is device-independent pixels per point.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget

from buildtrace_desktop.viewer.state import MAX_ZOOM, MIN_ZOOM

WHEEL_STEP = 1.25


class SheetView(QGraphicsView):
    """Emits `viewChanged(zoom, cx, cy)` after every pan or zoom (also from resizes and code),
    `userViewChanged(zoom, cx, cy)` only after the user's own wheel, drag or scroll-bar action, and
    `mouseMoved(x_pt, y_pt)`."""

    viewChanged = Signal(float, float, float)
    userViewChanged = Signal(float, float, float)
    mouseMoved = Signal(float, float)

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setBackgroundBrush(QColor("#5f6368"))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.valueChanged.connect(self._announce)
            bar.actionTriggered.connect(lambda _a: self._announce_user())
        self._quiet = False
        self._fitted = False  # stays fitted through resizes until the user zooms or pans
        self.on_paint_start: Callable[[], None] | None = None  # called once per frame, before any item

    # --- queries -----------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def center(self) -> QPointF:
        return self.visible_scene_rect().center()

    def fit_zoom(self) -> float:
        page = self.sceneRect()
        view = self.viewport().rect()
        if page.isEmpty() or view.isEmpty():
            return 1.0
        margin = 16
        return max(MIN_ZOOM, min((view.width() - margin) / page.width(), (view.height() - margin) / page.height()))

    # --- commands ----------------------------------------------------------------------------------
    def set_view(self, zoom: float, cx: float, cy: float, announce: bool = True) -> None:
        """Show scene point (cx, cy) in the middle at `zoom` pixels per point."""
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        self._fitted = False
        self._quiet = True
        try:
            self.setTransform(self.transform().fromScale(zoom, zoom))
            self.centerOn(cx, cy)
        finally:
            self._quiet = False
        if announce:
            self._announce()

    def fit(self) -> None:
        page = self.sceneRect()
        self.set_view(self.fit_zoom(), page.center().x(), page.center().y())
        self._fitted = True

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping scene point `anchor` (default: the centre) where it is on screen."""
        old_zoom = self.zoom
        new_zoom = min(MAX_ZOOM, max(MIN_ZOOM, old_zoom * factor))
        centre = self.center()
        if anchor is None:
            anchor = centre
        # keep the anchor fixed: new centre = anchor + (centre - anchor) * old/new
        ratio = old_zoom / new_zoom
        cx = anchor.x() + (centre.x() - anchor.x()) * ratio
        cy = anchor.y() + (centre.y() - anchor.y()) * ratio
        self.set_view(new_zoom, cx, cy)

    def zoom_to_box(self, box: tuple[float, float, float, float], max_zoom: float = 3.0) -> None:
        """Centre the box with context around it (at least 2 in of sheet), without zooming in past max_zoom."""
        x0, y0, x1, y1 = box
        margin = max(144.0, (x1 - x0), (y1 - y0))
        view = self.viewport().rect()
        zoom = min(view.width() / (x1 - x0 + 2 * margin), view.height() / (y1 - y0 + 2 * margin), max_zoom)
        self.set_view(zoom, (x0 + x1) / 2, (y0 + y1) / 2)

    # --- events ------------------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        if self.on_paint_start is not None:
            self.on_paint_start()
        super().drawBackground(painter, rect)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return
        anchor = self.mapToScene(event.position().toPoint())
        self.zoom_by(WHEEL_STEP**steps, anchor)
        self._announce_user()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = self.mapToScene(event.position().toPoint())
        self.mouseMoved.emit(point.x(), point.y())
        super().mouseMoveEvent(event)
        if event.buttons() & Qt.MouseButton.LeftButton:  # a hand-drag pan
            self._announce_user()

    def resizeEvent(self, event) -> None:  # noqa: ANN001 - Qt event
        super().resizeEvent(event)
        if self._fitted:
            self.fit()
        else:
            self._announce()

    def _announce_user(self) -> None:
        self._fitted = False
        c = self.center()
        self.userViewChanged.emit(self.zoom, c.x(), c.y())

    def _announce(self, *_: object) -> None:
        if not self._quiet:
            c = self.center()
            self.viewChanged.emit(self.zoom, c.x(), c.y())
