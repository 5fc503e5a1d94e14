"""Whole-image reductions used by several stages, written for OpenCV's fast paths.

A sheet at 150 dpi is 20-30 megapixels, so a pass over it costs milliseconds; these run on every pair.
OpenCV's area resize has a fast path only when the scale is an exact integer, so both functions reduce
by an integer factor and treat the edge remainder separately.
"""
from __future__ import annotations

import cv2
import numpy as np


def shrink(img: np.ndarray, factor: int) -> np.ndarray:
    """Average `img` over factor x factor blocks. The last partial row and column of blocks is dropped
    (fewer than `factor` pixels at the right and bottom edge): pixel (x, y) of the result covers pixels
    (x * factor, y * factor) onwards, exactly."""
    if factor <= 1:
        return img
    h, w = (img.shape[0] // factor) * factor, (img.shape[1] // factor) * factor
    if h == 0 or w == 0:
        return np.full((1, 1), int(img.mean()), img.dtype)
    return cv2.resize(img[:h, :w], (w // factor, h // factor), interpolation=cv2.INTER_AREA)


def any_pool(mask: np.ndarray, cell: int) -> np.ndarray:
    """Max-pool a uint8 mask by `cell`: a cell of the result is nonzero (1) when any pixel in it is.
    The result covers the whole mask (ceil division).

    Rows first, as a maximum over each band of `cell` rows (NumPy reduces the band's rows element-wise,
    a pass at memory speed), then the band, transposed, the same way: 3.9 ms for a 28-megapixel mask,
    where thresholding it and an area resize took 8.7 ms."""
    h, w = mask.shape
    ch, cw = -(-h // cell), -(-w // cell)
    if ch * cell != h or cw * cell != w:  # pad the edge remainder with zeros, which change no maximum
        padded = np.zeros((ch * cell, cw * cell), mask.dtype)
        padded[:h, :w] = mask
        mask = padded
    rows = mask.reshape(ch, cell, cw * cell).max(axis=1)  # (ch, width)
    cols = np.ascontiguousarray(rows.T).reshape(cw, cell, ch).max(axis=1)  # (cw, ch)
    return (cols.T > 0).astype(np.uint8)


def drop_specks(mask: np.ndarray, min_px: int) -> np.ndarray:
    """Remove connected specks smaller than `min_px` pixels (anti-aliasing crumbs, scan noise)."""
    if min_px <= 1 or not mask.any():
        return mask
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < min_px
    small[0] = False
    if small.any():
        mask = mask.copy()
        mask[small[labels]] = 0
    return mask
