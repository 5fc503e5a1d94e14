"""Overlay and side-by-side pictures of a sheet pair: old-only, new-only and common ink in three colours.

Both pictures are written as 8-bit palette PNGs: a sheet's picture has few distinct colours (ink levels
of three inks, and the box colours), so one byte per pixel carries it. That is a third of the data of
RGB to compress, and `report.pdf` embeds the PNG's compressed rows as they are (see `png_image_parts`).
"""
from __future__ import annotations

import functools
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

try:  # ISA-L's deflate at level 1: 7 times zlib's speed on these pictures, and 10 % smaller (measured)
    from isal.isal_zlib import compress as deflate
except ImportError:  # a platform without its wheel: the same PNGs, slower
    from zlib import compress as deflate

from buildtrace_desktop.processing.imaging import shrink
from buildtrace_desktop.processing.types import Change, CompareSettings
from buildtrace_desktop.storage import atomic_write_bytes

# RGB. The colour-blind-safe palette is Okabe-Ito's vermillion / blue on gray.
PALETTES: dict[str, dict[str, tuple[int, int, int]]] = {
    "default": {"old": (220, 30, 30), "new": (20, 110, 230), "common": (120, 120, 120),
                "added": (0, 160, 60), "removed": (220, 30, 30), "modified": (200, 0, 200)},
    "colorblind": {"old": (213, 94, 0), "new": (0, 114, 178), "common": (140, 140, 140),
                   "added": (0, 158, 115), "removed": (213, 94, 0), "modified": (204, 121, 167)},
}
# Palette layout: indices below BOX_BASE are picture colours, the box colours follow.
LEVELS = 15  # darkness levels per ink in the overlay: 15 x 15 combinations
GRAYS = 225  # gray levels in the side-by-side
BOX_BASE = 225
BOX_KINDS = ("added", "removed", "modified")


def _quantize_lut(levels: int) -> np.ndarray:
    """Gray 0..255 -> level 0..levels-1 (rounded), as a lookup table."""
    return np.round(np.arange(256) * (levels - 1) / 255.0).astype(np.uint8)


def _level_gray(levels: int) -> np.ndarray:
    """Level 0..levels-1 -> the gray it stands for."""
    return np.arange(levels, dtype=np.float32) * 255.0 / (levels - 1)


@functools.lru_cache(maxsize=4)
def overlay_palette(palette: str = "default") -> np.ndarray:
    """(256, 3) uint8 RGB: entry old_level * LEVELS + new_level, then the box colours.

    Ink darkness is kept (anti-aliased edges stay soft): common ink takes the lighter side's darkness,
    the rest of each side's darkness shows in its own colour."""
    colours = PALETTES[palette]
    gray = _level_gray(LEVELS) / 255.0
    old_strength = (1.0 - gray)[:, None]
    new_strength = (1.0 - gray)[None, :]
    common = np.minimum(old_strength, new_strength)
    out = np.full((LEVELS, LEVELS, 3), 255.0, np.float32)
    for strength, key in ((common, "common"), (old_strength - common, "old"), (new_strength - common, "new")):
        out -= strength[..., None] * (255.0 - np.array(colours[key], np.float32))
    table = np.full((256, 3), 255, np.uint8)
    table[:BOX_BASE] = np.clip(np.round(out), 0, 255).astype(np.uint8).reshape(-1, 3)
    _put_box_colours(table, palette)
    return table


@functools.lru_cache(maxsize=4)
def gray_palette(palette: str = "default") -> np.ndarray:
    """(256, 3) uint8 RGB: GRAYS gray levels, then the box colours."""
    table = np.full((256, 3), 255, np.uint8)
    table[:GRAYS] = np.round(_level_gray(GRAYS)).astype(np.uint8)[:, None]
    _put_box_colours(table, palette)
    return table


def _put_box_colours(table: np.ndarray, palette: str) -> None:
    for i, kind in enumerate(BOX_KINDS):
        table[BOX_BASE + i] = PALETTES[palette][kind]


def overlay_indices(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Palette indices (uint8) of the overlay of two aligned gray images: two table lookups and an add."""
    quantize = _quantize_lut(LEVELS)
    old_part = cv2.LUT(old, (quantize * LEVELS).astype(np.uint8))
    return cv2.add(old_part, cv2.LUT(new, quantize))


def gray_indices(img: np.ndarray) -> np.ndarray:
    return cv2.LUT(img, _quantize_lut(GRAYS))


def draw_change_boxes(indexed: np.ndarray, changes: list[Change], px_per_pt: float, numbered: bool = True) -> None:
    """Draw each change's box (and number) in its kind's palette entry, on a palette-index image."""
    thickness = max(2, round(indexed.shape[1] / 1500))
    for i, change in enumerate(changes, start=1):
        x0, y0, x1, y1 = (round(v * px_per_pt) for v in change.bbox)
        pad = thickness + 2
        colour = BOX_BASE + BOX_KINDS.index(change.kind)
        cv2.rectangle(indexed, (x0 - pad, y0 - pad), (x1 + pad, y1 + pad), colour, thickness)
        if numbered:  # no anti-aliasing: blended palette indices would be other colours
            cv2.putText(indexed, str(i), (x0 - pad, max(12, y0 - pad - 4)), cv2.FONT_HERSHEY_SIMPLEX,
                        0.4 * thickness, colour, max(1, thickness // 2), cv2.LINE_8)


def _downscale(img: np.ndarray, factor: float) -> np.ndarray:
    if factor >= 1.0:
        return img
    if abs(1.0 / factor - round(1.0 / factor)) < 1e-6:  # 150 -> 75 dpi: the fast integer path
        return shrink(img, round(1.0 / factor))
    size = (max(1, round(img.shape[1] * factor)), max(1, round(img.shape[0] * factor)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def picture_images(old_aligned: np.ndarray, new: np.ndarray, dpi: float,
                   settings: CompareSettings) -> tuple[np.ndarray, np.ndarray, float]:
    """Both images shrunk to the overlay DPI (never enlarged), and that DPI."""
    factor = min(1.0, settings.overlay_dpi / dpi)
    new_small = _downscale(new, factor)
    old_small = new_small if old_aligned is new else _downscale(old_aligned, factor)  # identical pages
    return old_small, new_small, dpi * factor


def write_pair_images(old_small: np.ndarray, new_small: np.ndarray, changes: list[Change], picture_dpi: float,
                      stem: Path, palette: str = "default") -> tuple[str, str]:
    """Write `<stem>_overlay.png` and `<stem>_side_by_side.png` from `picture_images`. Returns both paths."""
    px_per_pt = picture_dpi / 72.0
    stem.parent.mkdir(parents=True, exist_ok=True)

    overlay = overlay_indices(old_small, new_small)
    draw_change_boxes(overlay, changes, px_per_pt)
    overlay_path = str(stem) + "_overlay.png"
    atomic_write_bytes(overlay_path, encode_indexed_png(overlay, overlay_palette(palette)))

    new_side = gray_indices(new_small)
    draw_change_boxes(new_side, changes, px_per_pt)
    gutter = np.full((old_small.shape[0], 12), GRAYS - 1, np.uint8)
    side = np.concatenate([gray_indices(old_small), gutter, new_side], axis=1)
    side_path = str(stem) + "_side_by_side.png"
    atomic_write_bytes(side_path, encode_indexed_png(side, gray_palette(palette)))
    return overlay_path, side_path


# --- PNG ------------------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode_indexed_png(indices: np.ndarray, palette_rgb: np.ndarray) -> bytes:
    """An 8-bit palette PNG of `indices` (uint8, h x w). Rows unfiltered, deflate level 1: these pictures
    are large and written once, so speed matters more than the last bytes of size."""
    h, w = indices.shape
    rows = np.zeros((h, w + 1), np.uint8)  # each row starts with its filter type, 0 = none
    rows[:, 1:] = indices
    header = struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0)
    return b"".join([PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"PLTE", palette_rgb.astype(np.uint8).tobytes()),
                     _chunk(b"IDAT", deflate(rows.data, 1)), _chunk(b"IEND", b"")])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_image_parts(data: bytes) -> dict | None:
    """What a PDF image XObject needs to show a PNG without decoding it: width, height, colour space
    components, palette and the concatenated IDAT data (a PDF FlateDecode stream with PNG predictors
    holds exactly these bytes). None for PNGs a PDF cannot take this way (16-bit, interlaced, alpha)."""
    if not data.startswith(PNG_SIGNATURE):
        return None
    pos, idat, parts = len(PNG_SIGNATURE), [], {}
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, colour_type, _comp, _filter, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace or colour_type not in (0, 2, 3):
                return None
            parts.update(width=w, height=h, colors={0: 1, 2: 3, 3: 1}[colour_type], indexed=colour_type == 3)
        elif kind == b"PLTE":
            parts["palette"] = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if "width" not in parts or not idat or (parts["indexed"] and "palette" not in parts):
        return None
    parts["data"] = b"".join(idat)
    return parts
