"""Shape tests on ink masks: whether two renderings draw the same figure, whatever their line weight.

A scan thickens or thins every stroke (toner, the scanner's threshold, a seal's embossing rendered bold
in one file and fine in another); a reviewer sees the same seal, the same text. Two inks draw the same
figure when each one's centre lines lie on the other's ink.
"""
from __future__ import annotations

import cv2
import numpy as np

_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Centre lines of a 0/1 mask (Lantuéjoul's morphological skeleton), 0/1."""
    out = np.zeros_like(mask)
    eroded = mask.copy()
    for _ in range(64):  # strokes of a drawing are far thinner than 128 px
        if not eroded.any():
            break
        opened = cv2.dilate(cv2.erode(eroded, _CROSS), _CROSS)
        out |= eroded & (1 - opened)
        eroded = cv2.erode(eroded, _CROSS)
    return out


def same_figure(a: np.ndarray, b: np.ndarray, tolerance_px: int, min_cover: float = 0.8,
                where: np.ndarray | None = None) -> bool:
    """Whether 0/1 ink masks `a` and `b` (same shape) draw the same figure: at least `min_cover` of each
    one's centre lines lies within `tolerance_px` of the other's ink. `where` (0/1) limits the test to
    the centre lines there (near the pixels that differ, so unchanged ink around does not vouch for a
    changed digit). Empty sides are never the same."""
    if not a.any() or not b.any():
        return False
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance_px + 1, 2 * tolerance_px + 1))
    for one, other in ((a, b), (b, a)):
        lines = skeleton(one)
        if where is not None:
            lines &= where
        total = int(cv2.countNonZero(lines))
        if total == 0:
            continue  # no centre line of this side near the difference: nothing of it changed shape
        covered = int(cv2.countNonZero(lines & cv2.dilate(other, kernel)))
        if covered < min_cover * total:
            return False
    return True
