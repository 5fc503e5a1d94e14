"""Image crops around each change for the LLM: old, new and overlay, as small PNG data URLs.

Crops are rendered from the sheets themselves (gray, like the engine sees them) at a DPI that makes the long
side at most `max_side` pixels, so a crop costs the model a fixed, small number of tokens. The overlay crop
is cut from the overlay PNG the diff stage wrote (colour), scaled by its width against the page width.
"""
from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from buildtrace_desktop.processing import documents
from buildtrace_desktop.processing.summary import sheet_keys
from buildtrace_desktop.processing.types import Box, CompareSettings, PageRef

MIN_CROP_POINTS = 144.0  # 2 inches: a 1-inch change still shows what surrounds it
MAX_CROP_DPI = 150.0
VIEW_ORDER = ("overlay", "old", "new")  # overlay first: one picture that shows what changed


@dataclass(frozen=True)
class SheetImages:
    """Where to find the pictures of one sheet of the report (by position in report["sheets"])."""

    new_page: PageRef | None
    old_page: PageRef | None = None
    matrix: Sequence[Sequence[float]] | None = None  # OLD points -> NEW points, 2 x 3
    overlay_png: str | None = None  # the diff stage's overlay of the whole sheet


@dataclass(frozen=True)
class ImageCrop:
    sheet: str
    change_index: int  # position in the sheet's "changes"
    change_id: int  # the report's 1-based id
    view: str  # "old" | "new" | "overlay"
    width: int
    height: int
    png: bytes

    @property
    def data_url(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def crop_rect(bbox: Sequence[float], page_size: Sequence[float]) -> Box:
    """The box grown by half its size (at least to MIN_CROP_POINTS square), kept inside the page."""
    x0, y0, x1, y1 = bbox
    width, height = page_size
    grow_x = max((MIN_CROP_POINTS - (x1 - x0)) / 2, 0.5 * (x1 - x0))
    grow_y = max((MIN_CROP_POINTS - (y1 - y0)) / 2, 0.5 * (y1 - y0))
    return (max(0.0, x0 - grow_x), max(0.0, y0 - grow_y), min(width, x1 + grow_x), min(height, y1 + grow_y))


def old_rect(rect: Box, matrix: Sequence[Sequence[float]] | None) -> Box:
    """A NEW-page box mapped back to OLD page points through the inverse of the alignment."""
    if matrix is None:
        return rect
    m = np.array(matrix, dtype=float)
    inverse = np.linalg.inv(m[:, :2])
    corners = np.array([[rect[0], rect[1]], [rect[2], rect[1]], [rect[0], rect[3]], [rect[2], rect[3]]])
    mapped = (corners - m[:, 2]) @ inverse.T
    return (*mapped.min(axis=0).tolist(), *mapped.max(axis=0).tolist())  # type: ignore[return-value]


def encode_png(image: np.ndarray, max_side: int) -> tuple[bytes, int, int]:
    """PNG bytes of `image`, shrunk so its long side is at most `max_side` pixels."""
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("PNG encoding failed")
    return buffer.tobytes(), image.shape[1], image.shape[0]


def render_crop(page: PageRef, rect: Box, max_side: int, settings: CompareSettings) -> np.ndarray:
    """Gray pixels of `rect` (page points) of one page, about `max_side` pixels on the long side."""
    long_side = max(rect[2] - rect[0], rect[3] - rect[1], 1.0)
    dpi = min(MAX_CROP_DPI, max_side * 72.0 / long_side)
    with documents.open_page(page, settings) as opened:
        return opened.render_gray(dpi, clip=rect)


def overlay_crop(overlay_png: str, page_size: Sequence[float], rect: Box) -> np.ndarray | None:
    """The part of the overlay PNG under `rect`; None when the file cannot be read."""
    image = cv2.imread(overlay_png, cv2.IMREAD_COLOR)
    if image is None:
        return None
    scale = image.shape[1] / page_size[0]  # pixels per point
    x0, y0, x1, y1 = (round(v * scale) for v in rect)
    part = image[max(0, y0) : max(y0 + 1, y1), max(0, x0) : max(x0 + 1, x1)]
    return part if part.size else None


def _change_order(sheets: Sequence[Mapping[str, Any]]) -> list[tuple[int, int]]:
    """(sheet position, change index), line work first (its text cannot tell what changed), then big ones."""
    found = []
    for s, sheet in enumerate(sheets):
        for c, change in enumerate(sheet.get("changes") or []):
            has_text = bool(change.get("text_added") or change.get("text_removed"))
            x0, y0, x1, y1 = change["bbox"]
            found.append((has_text, -(x1 - x0) * (y1 - y0), s, c))
    return [(s, c) for _, _, s, c in sorted(found)]


def _views(change: Mapping[str, Any], sheet: Mapping[str, Any], images: SheetImages, max_side: int,
           settings: CompareSettings) -> list[tuple[str, np.ndarray]]:
    page_size = sheet["page_size"]
    rect = crop_rect(change["bbox"], page_size)
    out: list[tuple[str, np.ndarray]] = []
    for view in VIEW_ORDER:
        pixels = None
        if view == "overlay" and images.overlay_png:
            pixels = overlay_crop(images.overlay_png, page_size, rect)
        elif view == "old" and images.old_page is not None:
            pixels = render_crop(images.old_page, old_rect(rect, images.matrix), max_side, settings)
        elif view == "new" and images.new_page is not None:
            pixels = render_crop(images.new_page, rect, max_side, settings)
        if pixels is not None and pixels.size:
            out.append((view, pixels))
    return out


def change_crops(
    report: Mapping[str, Any],
    images: Mapping[int, SheetImages],
    max_images: int,
    max_side: int = 512,
    settings: CompareSettings | None = None,
) -> list[ImageCrop]:
    """Up to `max_images` crops (overlay, old, new per change), line-work changes first.

    `images` maps a sheet's position in report["sheets"] to where its pictures are; sheets without an
    entry get no crops.
    """
    settings = settings or CompareSettings()
    sheets = list(report.get("sheets") or [])
    keys = sheet_keys(sheets)
    crops: list[ImageCrop] = []
    for s, c in _change_order(sheets):
        if len(crops) >= max_images:
            break
        if s not in images or not sheets[s].get("page_size"):
            continue
        for view, pixels in _views(sheets[s]["changes"][c], sheets[s], images[s], max_side, settings):
            if len(crops) >= max_images:
                break
            png, width, height = encode_png(pixels, max_side)
            change_id = sheets[s]["changes"][c].get("id", c + 1)
            crops.append(ImageCrop(keys[s], c, change_id, view, width, height, png))
    return crops
