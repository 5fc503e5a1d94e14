"""A change region in pixels of the new page's image: what the diff's detectors produce, before it
becomes a `Change` in points."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Region:
    box_px: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) in pixels of the new image
    added_px: int
    removed_px: int
    cloud: str | None = None  # "added" / "removed": the region is a revision cloud with its tag
    outline_px: tuple[int, int, int, int] | None = None  # a cloud's scalloped outline alone
    tag_px: tuple[int, int, int, int] | None = None  # a cloud's tag (delta, hexagon, circle), if found
