"""How alike two sheets look, from their thumbnails: the evidence matching uses where the readings of
their numbers leave a pairing open. Robust to a revision's edits, a scan's skew, and a sheet re-plotted
turned a quarter round or onto paper of another size."""
from __future__ import annotations

import cv2
import numpy as np


def thumbnail_similarity(a: list[list[int]] | None, b: list[list[int]] | None, registered: bool = False) -> float:
    """How alike two thumbnails look: 1 = the same picture. The best of the pages compared as they are
    and their drawn areas compared in each quarter turn (a sheet re-plotted rotated, or onto another
    paper size, draws the same picture turned or scaled within the page).

    `registered`: first align `b` to `a` (a rotation and shift by ECC; 1-2 ms). A scan sits a degree
    or so askew, which at thumbnail size moves a sheet's frame lines by a pixel or two."""
    if not a or not b:
        return 0.0
    img_a, img_b = 255 - np.asarray(a, np.float32), 255 - np.asarray(b, np.float32)  # ink is the signal
    best = _correlation(img_a, cv2.resize(img_b, (img_a.shape[1], img_a.shape[0]), interpolation=cv2.INTER_AREA),
                        registered)
    drawn_a, drawn_b = _drawn_area(img_a), _drawn_area(img_b)
    if drawn_a is None or drawn_b is None:
        return best
    return max(best, max(_placed_correlation(drawn_a, np.rot90(drawn_b, turns)) for turns in range(4)))


def _placed_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """The best correlation of drawn area `b` scaled to fit `a` (by either side, so a drawing cut off at
    the page edge still fits) and placed anywhere over it."""
    best = 0.0
    for scale in {a.shape[0] / b.shape[0], a.shape[1] / b.shape[1]}:
        h, w = round(b.shape[0] * scale), round(b.shape[1] * scale)
        if h < 8 or w < 8 or h > 1.1 * a.shape[0] + 2 or w > 1.1 * a.shape[1] + 2:
            continue
        small = cv2.resize(np.ascontiguousarray(b), (w, h), interpolation=cv2.INTER_AREA)
        canvas = cv2.copyMakeBorder(a, h // 2, h // 2, w // 2, w // 2, cv2.BORDER_CONSTANT, value=0)
        if canvas.shape[0] < h or canvas.shape[1] < w:
            continue
        best = max(best, float(cv2.minMaxLoc(cv2.matchTemplate(canvas, small, cv2.TM_CCOEFF_NORMED))[1]))
    return best


def _drawn_area(ink: np.ndarray) -> np.ndarray | None:
    """The part of a thumbnail's ink image that holds the drawing (the bounding box of its ink), or None
    when it is too small to compare."""
    ys, xs = np.nonzero(ink > 24)
    if len(xs) < 16 or xs.max() - xs.min() < 8 or ys.max() - ys.min() < 8:
        return None
    return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def _correlation(img_a: np.ndarray, img_b: np.ndarray, registered: bool) -> float:
    """Normalised correlation of two ink images of one shape, after an ECC registration if asked."""
    if registered:
        img_a, img_b = cv2.GaussianBlur(img_a, (0, 0), 0.7), cv2.GaussianBlur(img_b, (0, 0), 0.7)
        warp = np.eye(2, 3, dtype=np.float32)
        try:
            _cc, warp = cv2.findTransformECC(img_a, img_b, warp, cv2.MOTION_EUCLIDEAN,
                                             (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 1e-4), None, 1)
            img_b = cv2.warpAffine(img_b, warp, (img_a.shape[1], img_a.shape[0]),
                                   flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        except cv2.error:
            pass  # no convergence: compare as they are
    da, db = img_a - img_a.mean(), img_b - img_b.mean()
    denom = float(np.sqrt((da * da).sum() * (db * db).sum()))
    return float((da * db).sum() / denom) if denom > 0 else 0.0
