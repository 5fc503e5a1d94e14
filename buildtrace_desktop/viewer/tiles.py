"""Page tiles for the viewer: a level-of-detail pyramid rendered on demand from PyMuPDF.

Scene coordinates are NEW-page points (origin top-left). Level `k` renders at 2**k device pixels per
point; a tile is TILE_PX x TILE_PX pixels of one level. The OLD page is drawn warped by the pair's
alignment (old points -> new points), so both pages share one coordinate system and pan/zoom together.

Rendering goes through a per-page `DisplayList` (parsed once, then each tile is a few milliseconds).
MuPDF objects are not shared across threads: a `SheetSource` belongs to the thread that made it.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import pymupdf

from buildtrace_desktop.errors import BadInputError, CorruptFileError, EncryptedFileError

TILE_PX = 512
MIN_LEVEL = -4  # 1/16 px per point: a 42 in sheet is 189 px wide
MAX_LEVEL = 3  # 8 px per point = 576 DPI
INK_THRESHOLD = 0.08  # darkness below this is paper, not ink (anti-aliasing haze, scan noise)

Box = tuple[float, float, float, float]
Matrix = list[list[float]]


@dataclass(frozen=True)
class PageSpec:
    """Which page to show: a file, a page inside it, and the transform into scene (NEW-page) points."""

    path: str
    page_index: int = 0
    matrix: tuple[tuple[float, ...], ...] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))  # 2 x 3, page -> scene

    @staticmethod
    def of(path: str, page_index: int = 0, matrix: Matrix | None = None) -> PageSpec:
        m = matrix or [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
        return PageSpec(str(path), int(page_index), tuple(tuple(float(v) for v in row) for row in m))


def level_scale(level: int) -> float:
    return 2.0**level


def level_for_zoom(zoom: float) -> int:
    """The coarsest level whose resolution is at least `zoom` device pixels per point."""
    level = math.ceil(math.log2(max(zoom, 1e-6)) - 1e-9)
    return max(MIN_LEVEL, min(MAX_LEVEL, level))


def tiles_covering(rect: Box, level: int, page_size: tuple[float, float]) -> Iterator[tuple[int, int]]:
    """(tx, ty) of the tiles of `level` that intersect `rect` (scene points), clipped to the page."""
    span = TILE_PX / level_scale(level)  # points per tile
    x0, y0 = max(0.0, rect[0]), max(0.0, rect[1])
    x1, y1 = min(page_size[0], rect[2]), min(page_size[1], rect[3])
    if x1 <= x0 or y1 <= y0:
        return
    for ty in range(int(y0 // span), int(math.ceil(y1 / span))):
        for tx in range(int(x0 // span), int(math.ceil(x1 / span))):
            yield tx, ty


def tile_rect(level: int, tx: int, ty: int, page_size: tuple[float, float] | None = None) -> Box:
    """The scene rectangle (points) a tile covers; with `page_size`, cut at the page's right and bottom
    edges (edge tiles are smaller, so nothing is drawn or kept beyond the paper)."""
    span = TILE_PX / level_scale(level)
    x0, y0, x1, y1 = tx * span, ty * span, (tx + 1) * span, (ty + 1) * span
    if page_size is not None:
        x1, y1 = min(x1, page_size[0]), min(y1, page_size[1])
    return x0, y0, x1, y1


class SheetSource:
    """One page of a PDF or image, parsed once, rendered as gray tiles in scene coordinates."""

    def __init__(self, spec: PageSpec) -> None:
        self.spec = spec
        self._doc = _open_document(spec.path)
        if not 0 <= spec.page_index < self._doc.page_count:
            raise BadInputError(f"{spec.path} has no page {spec.page_index + 1}.")
        page = self._doc[spec.page_index]
        # Our page points: PDF points, or for an image 1 px = 72 / (its dpi tag, else 72) points as the
        # engine measures it (MuPDF assumes 96 dpi for untagged images), so change boxes land right.
        native = _native_scale(spec.path, page)
        self.page_size = (page.rect.width * native, page.rect.height * native)  # rotation applied
        # The display list replays the page's drawing commands without re-parsing the content stream.
        self._display_list = page.get_displaylist()
        # unrotated MuPDF points -> our (rotated) page points
        self._rotation = page.rotation_matrix * pymupdf.Matrix(native, native)
        m = spec.matrix
        self._to_scene = pymupdf.Matrix(m[0][0], m[1][0], m[0][1], m[1][1], m[0][2], m[1][2])
        self._from_scene = ~self._to_scene

    def close(self) -> None:
        self._display_list = None
        self._doc.close()

    def render_tile(self, level: int, tx: int, ty: int) -> np.ndarray:
        """Gray uint8 image (TILE_PX x TILE_PX; 255 = paper) of one tile; white outside the page."""
        return self.render_rect(tile_rect(level, tx, ty, self.page_size), level_scale(level))

    def render_rect(self, rect: Box, scale: float) -> np.ndarray:
        """Gray uint8 image of scene rectangle `rect` at `scale` device pixels per point."""
        width = max(1, round((rect[2] - rect[0]) * scale))
        height = max(1, round((rect[3] - rect[1]) * scale))
        out = np.full((height, width), 255, np.uint8)
        # The page region that lands in `rect`, in rotated page points, then unrotated for the display list.
        page_clip = pymupdf.Rect(rect) * self._from_scene
        page_clip &= pymupdf.Rect(0, 0, *self.page_size)
        if page_clip.is_empty:
            return out
        page_to_px = self._rotation * self._to_scene * pymupdf.Matrix(scale, scale)
        unrotated_clip = page_clip * ~self._rotation
        pix = self._display_list.get_pixmap(
            matrix=page_to_px, colorspace=pymupdf.csGRAY, alpha=False, clip=unrotated_clip
        )
        _paste(out, pix, round(rect[0] * scale), round(rect[1] * scale))
        return out


def _native_scale(path: str, page: pymupdf.Page) -> float:
    """Our points per MuPDF point: 1 for PDFs; for images, what makes 1 px = 72 / dpi-tag points."""
    from pathlib import Path

    from buildtrace_desktop.processing.documents import file_kind, image_info

    if file_kind(Path(path)) != "image" or page.rect.width <= 0:
        return 1.0
    width_px, _height_px, dpi = image_info(path)
    return (width_px * 72.0 / dpi) / page.rect.width


def _paste(out: np.ndarray, pix: pymupdf.Pixmap, origin_x: int, origin_y: int) -> None:
    """Copy the part of `pix` (whose top-left is at device pixel pix.x, pix.y) that overlaps `out`
    (whose top-left is at device pixel origin_x, origin_y)."""
    src = np.frombuffer(pix.samples_mv, np.uint8).reshape(pix.height, pix.stride)[:, : pix.width]
    dx, dy = pix.x - origin_x, pix.y - origin_y
    x0, y0 = max(0, dx), max(0, dy)
    x1, y1 = min(out.shape[1], dx + pix.width), min(out.shape[0], dy + pix.height)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = src[y0 - dy : y1 - dy, x0 - dx : x1 - dx]


def _open_document(path: str) -> pymupdf.Document:
    try:
        doc = pymupdf.open(path)
    except Exception as err:  # MuPDF raises plain RuntimeError/FileDataError for damaged files
        raise CorruptFileError(f"Cannot open {path}: {err}. Re-export or re-scan the file.") from err
    if doc.needs_pass:
        doc.close()
        raise EncryptedFileError(f"{path} is password-protected; import it again with its password.")
    if doc.page_count == 0:
        doc.close()
        raise BadInputError(f"{path} has no pages.")
    return doc


def page_size_of(path: str, page_index: int = 0) -> tuple[float, float]:
    with _open_document(path) as doc:
        rect = doc[page_index].rect
        return rect.width, rect.height


# --- overlay layers: old-only, new-only and common ink, each an RGBA image ---------------------------

def darkness(gray: np.ndarray) -> np.ndarray:
    """0 (paper) .. 1 (black ink) as float32, with faint haze cut to 0."""
    d = 1.0 - gray.astype(np.float32) / 255.0
    d[d < INK_THRESHOLD] = 0.0
    return d


def ink_layers(old_gray: np.ndarray, new_gray: np.ndarray) -> dict[str, np.ndarray]:
    """Alpha (0..1 float32) of each overlay layer: ink only in old, only in new, and in both. The new
    tile gives the shape: at a page's edge the old page's tile can be a pixel larger or smaller (two
    scans of one sheet 6000 x 4285 and 6000 x 4286 px), cut or padded with paper."""
    if old_gray.shape != new_gray.shape:
        h, w = new_gray.shape
        fitted = np.full((h, w), 255, np.uint8)
        fitted[:min(h, old_gray.shape[0]), :min(w, old_gray.shape[1])] = old_gray[:h, :w]
        old_gray = fitted
    old_d, new_d = darkness(old_gray), darkness(new_gray)
    common = np.minimum(old_d, new_d)
    return {"old_only": old_d - common, "new_only": new_d - common, "common": common}


def tint(alpha: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """Premultiplied BGRA uint8 (Qt's ARGB32_Premultiplied byte order on little-endian) of one colour."""
    a = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    out = np.empty(alpha.shape + (4,), np.uint8)
    for channel, value in zip((2, 1, 0), rgb, strict=True):
        out[..., channel] = (a.astype(np.uint16) * value // 255).astype(np.uint8)
    out[..., 3] = a
    return out


# --- a bounded cache -------------------------------------------------------------------------------

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Least-recently-used cache bounded by a byte budget; `size_of(value)` says what each entry costs."""

    def __init__(self, max_bytes: int, size_of: Callable[[Any], int]) -> None:
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.bytes = 0

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V) -> None:
        if key in self._entries:
            self.bytes -= self._entries.pop(key)[1]
        size = self._size_of(value)
        self._entries[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes and len(self._entries) > 1:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped

    def discard_where(self, predicate: Callable[[K], bool]) -> None:
        for key in [k for k in self._entries if predicate(k)]:
            self.bytes -= self._entries.pop(key)[1]

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries
