"""Overlay and side-by-side pictures of a sheet pair: old-only, new-only and common ink in three colours."""
from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

from buildtrace_desktop.processing.types import Change, CompareSettings
from buildtrace_desktop.storage import atomic_write_bytes

# RGB. The colour-blind-safe palette is Okabe-Ito's vermillion / blue on gray.
PALETTES: dict[str, dict[str, tuple[int, int, int]]] = {
    "default": {"old": (220, 30, 30), "new": (20, 110, 230), "common": (120, 120, 120),
                "added": (0, 160, 60), "removed": (220, 30, 30), "modified": (200, 0, 200)},
    "colorblind": {"old": (213, 94, 0), "new": (0, 114, 178), "common": (140, 140, 140),
                   "added": (0, 158, 115), "removed": (213, 94, 0), "modified": (204, 121, 167)},
}
INK = 200


def overlay_rgb(old: np.ndarray, new: np.ndarray, palette: str = "default") -> np.ndarray:
    """RGB picture on white: ink only in old, only in new, and in both, each in its palette colour.

    Ink darkness is kept (anti-aliased edges stay soft): each pixel's colour is looked up in a table
    indexed by the old and new gray levels (5 bits each), computed once per palette.
    """
    table = _overlay_table(palette)
    index = (old.astype(np.uint16) >> 3) << 5 | (new >> 3)
    return table[index]


@functools.lru_cache(maxsize=4)
def _overlay_table(palette: str) -> np.ndarray:
    colours = PALETTES[palette]
    levels = (np.arange(32, dtype=np.float32) * 8 + 4) / 255.0
    old_strength = (1.0 - levels)[:, None]
    new_strength = (1.0 - levels)[None, :]
    common = np.minimum(old_strength, new_strength)
    out = np.full((32, 32, 3), 255.0, np.float32)
    for strength, key in ((common, "common"), (old_strength - common, "old"), (new_strength - common, "new")):
        out -= strength[..., None] * (255.0 - np.array(colours[key], np.float32))
    return np.clip(out, 0, 255).astype(np.uint8).reshape(1024, 3)


def draw_change_boxes(rgb: np.ndarray, changes: list[Change], px_per_pt: float, palette: str = "default",
                      numbered: bool = True) -> None:
    colours = PALETTES[palette]
    thickness = max(2, round(rgb.shape[1] / 1500))
    for i, change in enumerate(changes, start=1):
        x0, y0, x1, y1 = (round(v * px_per_pt) for v in change.bbox)
        pad = thickness + 2
        colour = colours[change.kind]
        cv2.rectangle(rgb, (x0 - pad, y0 - pad), (x1 + pad, y1 + pad), colour, thickness)
        if numbered:
            cv2.putText(rgb, str(i), (x0 - pad, max(12, y0 - pad - 4)), cv2.FONT_HERSHEY_SIMPLEX,
                        0.4 * thickness, colour, max(1, thickness // 2), cv2.LINE_AA)


def _downscale(img: np.ndarray, factor: float) -> np.ndarray:
    if factor >= 1.0:
        return img
    size = (max(1, round(img.shape[1] * factor)), max(1, round(img.shape[0] * factor)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def write_pair_images(old_aligned: np.ndarray, new: np.ndarray, changes: list[Change], dpi: float,
                      settings: CompareSettings, stem: Path, palette: str = "default") -> tuple[str, str]:
    """Write `<stem>_overlay.png` and `<stem>_side_by_side.png` at the overlay DPI. Returns both paths."""
    factor = min(1.0, settings.overlay_dpi / dpi)
    out_dpi = dpi * factor
    old_small, new_small = _downscale(old_aligned, factor), _downscale(new, factor)
    rgb = overlay_rgb(old_small, new_small, palette)
    draw_change_boxes(rgb, changes, out_dpi / 72.0, palette)
    stem.parent.mkdir(parents=True, exist_ok=True)
    overlay_path = str(stem) + "_overlay.png"
    _write_png(overlay_path, rgb)
    new_rgb = cv2.cvtColor(new_small, cv2.COLOR_GRAY2RGB)
    draw_change_boxes(new_rgb, changes, out_dpi / 72.0, palette)
    gutter = np.full((old_small.shape[0], 12, 3), 255, np.uint8)
    side_rgb = np.concatenate([cv2.cvtColor(old_small, cv2.COLOR_GRAY2RGB), gutter, new_rgb], axis=1)
    side_path = str(stem) + "_side_by_side.png"
    _write_png(side_path, side_rgb)
    return overlay_path, side_path


def _write_png(path: str, rgb: np.ndarray) -> None:
    # Level 1, no filter: these pictures are large and written once; speed matters more than size.
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE])
    if not ok:
        raise OSError(f"cannot encode {path}")
    atomic_write_bytes(path, data.tobytes())
