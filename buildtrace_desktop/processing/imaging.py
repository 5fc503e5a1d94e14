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
    """Max-pool a uint8 mask by `cell` (at most 22, so that one pixel in a cell survives the averaging):
    a cell of the result is 1 when any pixel in it is nonzero.
    The result covers the whole mask (ceil division)."""
    h, w = mask.shape
    ch, cw = -(-h // cell), -(-w // cell)
    out = np.zeros((ch, cw), np.uint8)
    fh, fw = h // cell, w // cell
    if fh and fw:
        # Nonzero -> 255 first: the area average of one 255 among cell * cell pixels still rounds to >= 1.
        full = cv2.threshold(mask[: fh * cell, : fw * cell], 0, 255, cv2.THRESH_BINARY)[1]
        out[:fh, :fw] = cv2.resize(full, (fw, fh), interpolation=cv2.INTER_AREA) > 0
    if fw < cw:  # the right edge strip, narrower than a cell
        strip = mask[:, fw * cell:]
        out[:, fw] = np.pad(strip.max(axis=1), (0, ch * cell - h)).reshape(ch, cell).max(axis=1) > 0
    if fh < ch:  # the bottom edge strip
        strip = mask[fh * cell:, :]
        out[fh, :] = np.pad(strip.max(axis=0), (0, cw * cell - w)).reshape(cw, cell).max(axis=1) > 0
    return out
