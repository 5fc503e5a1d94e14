"""Tiles of one sheet pair as QPixmaps, rendered on demand within a time budget and kept in a bounded cache.

Kinds: "old" and "new" (gray pages in scene points; old warped by the alignment), and the overlay layers
"old_only", "new_only", "common" (ink tinted in the layer's colour on transparent). Derived layers share
the gray tiles, which a second bounded cache keeps.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtGui import QImage, QPixmap

from buildtrace_desktop.viewer.layers import hex_to_rgb
from buildtrace_desktop.viewer.tiles import (
    MIN_LEVEL,
    LruCache,
    PageSpec,
    SheetSource,
    ink_layers,
    level_scale,
    tile_rect,
    tint,
)

PAGE_KINDS = ("old", "new")
INK_KINDS = ("old_only", "new_only", "common")
PIXMAP_BUDGET_BYTES = 64 << 20  # 64 full 512 px colour tiles: more than a 1080p screen of three layers
GRAY_BUDGET_BYTES = 16 << 20


class TileStore:
    """Renders and caches tiles of the OLD and NEW page of one pair. GUI thread only (MuPDF per thread)."""

    def __init__(self, old: PageSpec | None, new: PageSpec, colours: dict[str, str]) -> None:
        self.new_source = SheetSource(new)
        self.old_source = SheetSource(old) if old is not None else None
        self.page_size = self.new_source.page_size
        self._colours = dict(colours)
        self._pixmaps: LruCache[tuple, QPixmap] = LruCache(
            PIXMAP_BUDGET_BYTES, lambda p: p.width() * p.height() * max(1, p.depth() // 8)
        )
        self._grays: LruCache[tuple, np.ndarray] = LruCache(GRAY_BUDGET_BYTES, lambda a: a.nbytes)
        self.rendered = 0  # tiles rendered so far (for tests and the benchmark)

    def close(self) -> None:
        self._pixmaps.clear()
        self._grays.clear()
        self.new_source.close()
        if self.old_source is not None:
            self.old_source.close()

    @property
    def cached_bytes(self) -> int:
        return self._pixmaps.bytes + self._grays.bytes

    def ensure_room(self, visible_tiles: int, layers: int = 3) -> None:
        """Grow the pixmap budget (for this pair only) if one screenful of `layers` tiled layers would not
        fit: a cache smaller than the screen would re-render the same tiles on every paint."""
        from buildtrace_desktop.viewer.tiles import TILE_PX

        needed = int(1.5 * visible_tiles * layers * TILE_PX * TILE_PX * 4)
        self._pixmaps.max_bytes = max(self._pixmaps.max_bytes, needed)
        self._grays.max_bytes = max(self._grays.max_bytes, needed // 4 * 2 // 3)

    def set_colour(self, kind: str, colour: str) -> None:
        """A layer's colour changed: forget its tinted tiles (the gray ones stay)."""
        self._colours[kind] = colour
        self._pixmaps.discard_where(lambda key: key[0] == kind)

    def cached(self, kind: str, level: int, tx: int, ty: int) -> QPixmap | None:
        return self._pixmaps.get((kind, level, tx, ty))

    def pixmap(self, kind: str, level: int, tx: int, ty: int) -> QPixmap:
        """The tile, rendering it now if it is not cached."""
        key = (kind, level, tx, ty)
        found = self._pixmaps.get(key)
        if found is None:
            found = self._render(kind, level, tx, ty)
            self._pixmaps.put(key, found)
        return found

    def _gray(self, which: str, level: int, tx: int, ty: int) -> np.ndarray:
        key = (which, level, tx, ty)
        found = self._grays.get(key)
        if found is None:
            source = self.new_source if which == "new" else self.old_source
            if source is None:  # an added sheet has no old page: blank paper
                found = self._blank(level, tx, ty)
            else:
                found = source.render_tile(level, tx, ty)
            self.rendered += 1
            self._grays.put(key, found)
        return found

    def _blank(self, level: int, tx: int, ty: int) -> np.ndarray:
        x0, y0, x1, y1 = tile_rect(level, tx, ty, self.page_size)
        scale = level_scale(level)
        return np.full((max(1, round((y1 - y0) * scale)), max(1, round((x1 - x0) * scale))), 255, np.uint8)

    def _render(self, kind: str, level: int, tx: int, ty: int) -> QPixmap:
        if kind in PAGE_KINDS:
            gray = self._gray(kind, level, tx, ty)
            image = QImage(gray.data, gray.shape[1], gray.shape[0], gray.strides[0], QImage.Format.Format_Grayscale8)
            return QPixmap.fromImage(image.copy())
        alphas = ink_layers(self._gray("old", level, tx, ty), self._gray("new", level, tx, ty))
        bgra = np.ascontiguousarray(tint(alphas[kind], hex_to_rgb(self._colours[kind])))
        image = QImage(bgra.data, bgra.shape[1], bgra.shape[0], bgra.strides[0], QImage.Format.Format_ARGB32_Premultiplied)
        return QPixmap.fromImage(image.copy())


class RenderBudget:
    """How long one frame (all tiled layers of a view) may spend rendering new tiles before it shows
    coarser ones and asks for another paint, so the event loop keeps handling input while a zoomed-in
    sheet fills in. The view starts it at the beginning of each frame."""

    def __init__(self, seconds: float = 0.04) -> None:
        self.seconds = seconds
        self._started = 0.0

    def start(self) -> None:
        self._started = time.perf_counter()

    def left(self) -> bool:
        return time.perf_counter() - self._started < self.seconds


COARSEST_LEVEL = MIN_LEVEL
