"""Graphics items of the sheet viewer: the tiled page layers, the change boxes and the swipe line."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from buildtrace_desktop.ui.tile_store import RenderBudget, TileStore
from buildtrace_desktop.viewer.changes import ChangeItem
from buildtrace_desktop.viewer.tiles import MIN_LEVEL, level_for_zoom, tile_rect, tiles_covering


class TiledPageItem(QGraphicsItem):
    """Draws one kind of tile ("old", "new", "old_only", …) for the exposed area at the level that matches
    the current zoom. Missing tiles are rendered within a budget; the rest show a coarser level until a
    follow-up paint fills them in."""

    def __init__(self, store: TileStore, kind: str, budget: RenderBudget,
                 request_refresh: Callable[[], None]) -> None:
        super().__init__()
        self.store = store
        self.kind = kind
        self._budget = budget
        self._clip_left = 0.0  # swipe: draw only right of this scene x
        # Asks the owning viewer for another paint soon; the viewer owns the timer, so nothing fires
        # into an item that a scene has already deleted.
        self._request_refresh = request_refresh
        self.pending = 0  # tiles shown coarse in the last paint
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def boundingRect(self) -> QRectF:
        w, h = self.store.page_size
        return QRectF(0, 0, w, h)

    def set_clip_left(self, x: float) -> None:
        if x != self._clip_left:
            self._clip_left = x
            self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        zoom = painter.worldTransform().m11() or 1.0
        if widget is not None:
            zoom *= widget.devicePixelRatioF()
        level = level_for_zoom(abs(zoom))
        exposed = option.exposedRect.intersected(self.boundingRect())
        if self._clip_left > 0:
            exposed.setLeft(max(exposed.left(), self._clip_left))
            painter.setClipRect(exposed)
        if exposed.isEmpty():
            return
        area = (exposed.left(), exposed.top(), exposed.right(), exposed.bottom())
        self.pending = 0
        tiles = list(tiles_covering(area, level, self.store.page_size))
        self.store.ensure_room(len(tiles))
        for tx, ty in tiles:
            target = QRectF(*_xywh(tile_rect(level, tx, ty, self.store.page_size)))
            pixmap = self.store.cached(self.kind, level, tx, ty)
            if pixmap is None and (self._budget.left() or level == MIN_LEVEL):
                pixmap = self.store.pixmap(self.kind, level, tx, ty)
            if pixmap is None:
                self.pending += 1
                self._paint_coarser(painter, target, level)
            else:
                painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
        if self.pending:
            self._request_refresh()

    def _paint_coarser(self, painter: QPainter, target: QRectF, level: int) -> None:
        """Fill `target` from the finest coarser level already cached (the coarsest is always rendered)."""
        area = (target.left(), target.top(), target.right(), target.bottom())
        painter.save()
        painter.setClipRect(target, Qt.ClipOperation.IntersectClip)
        for coarse in range(level - 1, MIN_LEVEL - 1, -1):
            tiles = list(tiles_covering(area, coarse, self.store.page_size))
            pixmaps = [self.store.cached(self.kind, coarse, tx, ty) for tx, ty in tiles]
            if coarse == MIN_LEVEL:
                pixmaps = [self.store.pixmap(self.kind, coarse, tx, ty) for tx, ty in tiles]
            if all(p is not None for p in pixmaps):
                for (tx, ty), pixmap in zip(tiles, pixmaps, strict=True):
                    painter.drawPixmap(
                        QRectF(*_xywh(tile_rect(coarse, tx, ty, self.store.page_size))), pixmap, QRectF(pixmap.rect())
                    )
                break
        painter.restore()


def _xywh(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return box[0], box[1], box[2] - box[0], box[3] - box[1]


class PaperItem(QGraphicsRectItem):
    """White paper under the overlay layers, with a thin edge."""

    def __init__(self, width: float, height: float) -> None:
        super().__init__(0, 0, width, height)
        self.setBrush(QBrush(Qt.GlobalColor.white))
        pen = QPen(QColor("#505050"))
        pen.setCosmetic(True)
        self.setPen(pen)


class ChangeBoxesItem(QGraphicsItem):
    """A numbered rectangle per change, in NEW-page points; the current one drawn thicker."""

    def __init__(self, width: float, height: float) -> None:
        super().__init__()
        self._rect = QRectF(0, 0, width, height)
        self._boxes: list[tuple[QGraphicsRectItem, QGraphicsSimpleTextItem]] = []
        self._colour = QColor("#1f77b4")
        self._current = -1

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        pass  # the children draw

    def set_changes(self, changes: list[ChangeItem]) -> None:
        scene = self.scene()
        for rect, label in self._boxes:
            if scene is not None:
                scene.removeItem(rect)
                scene.removeItem(label)
        self._boxes = []
        font = QFont()
        font.setPointSize(9)
        font.setBold(True)
        for number, change in enumerate(changes, start=1):
            x0, y0, x1, y1 = change.bbox
            pad = 4.0  # points: keep the box off the changed ink itself
            rect = QGraphicsRectItem(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad, self)
            label = QGraphicsSimpleTextItem(str(number), self)
            label.setFont(font)
            label.setPos(x0 - pad, y0 - pad)
            label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
            label.setData(0, change.change_id)
            label.setTransform(QTransform.fromTranslate(0, -15))  # above the box's corner, in screen pixels
            self._boxes.append((rect, label))
        self._restyle()

    def set_colour(self, colour: str) -> None:
        self._colour = QColor(colour)
        self._restyle()

    def set_current(self, index: int) -> None:
        self._current = index
        self._restyle()

    def _restyle(self) -> None:
        for i, (rect, label) in enumerate(self._boxes):
            pen = QPen(self._colour)
            pen.setCosmetic(True)
            pen.setWidthF(3.5 if i == self._current else 1.8)
            rect.setPen(pen)
            rect.setBrush(QBrush(Qt.BrushStyle.NoBrush))
            label.setBrush(QBrush(self._colour))


class SwipeLineItem(QGraphicsItem):
    """The vertical line of the swipe mode, at scene x `position`."""

    def __init__(self, height: float) -> None:
        super().__init__()
        self._height = height
        self.setZValue(50)

    def boundingRect(self) -> QRectF:
        return QRectF(-2, 0, 4, self._height)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        pen = QPen(QColor("#ff00aa"))
        pen.setCosmetic(True)
        pen.setWidthF(2.0)
        painter.setPen(pen)
        painter.drawLine(0, 0, 0, int(self._height))
