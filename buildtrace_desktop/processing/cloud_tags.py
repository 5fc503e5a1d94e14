"""A revision cloud's tag: the delta, hexagon or circle with the revision's number or letter, beside
the cloud's outline or on it."""
from __future__ import annotations

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), pixels

TAG_SIZE_PT = (6.0, 40.0)  # a delta, hexagon or circle big enough for a number or letter
TAG_REACH_PT = 24.0  # how far outside the outline a tag may sit
TAG_GAP_PT = 6.0  # gaps bridged in a tag's outline (a line crossed): wider would join it to its neighbours


def find_tag(window: np.ndarray, outline: np.ndarray, contour: np.ndarray,
              ppt: float) -> tuple[Box, np.ndarray] | None:
    """Box and pixels (window coordinates) of the tag nearest the cloud's outer `contour`: a triangle,
    hexagon or circle of a tag's size with ink (its text) inside, on the outline or outside it within
    TAG_REACH_PT. `outline`: the cloud's own pixels in the window."""
    best = None
    for hull in _closed_shapes(window, ppt) + _broken_shapes(window & (1 - outline), ppt):
        moments = cv2.moments(hull)
        if moments["m00"] <= 0:
            continue
        centre = (moments["m10"] / moments["m00"], moments["m01"] / moments["m00"])
        inside = cv2.pointPolygonTest(contour, centre, True)  # positive inside the outline
        size = max(cv2.boundingRect(hull)[2:])
        if -TAG_REACH_PT * ppt <= inside <= size and (best is None or abs(inside) < best[0]):
            best = (abs(inside), hull)
    if best is None:
        return None
    area = np.zeros_like(window)
    cv2.drawContours(area, [best[1]], 0, 1, thickness=cv2.FILLED)
    line = round(1.5 * ppt) + 1  # the tag's own line, around the shape's inside
    area = cv2.dilate(area, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * line + 1, 2 * line + 1)))
    pixels = window & area
    ys, xs = np.nonzero(pixels)
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    return (x0, y0, x1, y1), pixels[y0:y1, x0:x1]


def _closed_shapes(window: np.ndarray, ppt: float) -> list[np.ndarray]:
    """Hulls of holes in the ink shaped like a tag's inside, with text in them."""
    contours, hierarchy = cv2.findContours(window, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    lo, hi = TAG_SIZE_PT[0] * ppt * 0.6, TAG_SIZE_PT[1] * ppt  # the inside is smaller by the tag's line
    shapes = []
    for hole, links in zip(contours, hierarchy[0], strict=False):
        if links[3] < 0:  # an outer contour; a tag's inside is a hole in its outline
            continue
        x, y, w, h = cv2.boundingRect(hole)
        if not lo <= max(w, h) <= hi or min(w, h) < 0.5 * max(w, h):
            continue
        hull = cv2.convexHull(hole)
        if _is_tag_shape(hull) and _has_text(window, hull):
            shapes.append(hull)
    return shapes


def _broken_shapes(window: np.ndarray, ppt: float) -> list[np.ndarray]:
    """Hulls of groups of ink (pieces up to a gap apart) shaped like a tag whose outline is broken (where
    it crosses unchanged lines), drawn as an outline around text."""
    radius = max(1, round(TAG_GAP_PT * ppt / 2))
    grouped = cv2.dilate(window, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    lo, hi = TAG_SIZE_PT[0] * ppt, TAG_SIZE_PT[1] * ppt
    shapes = []
    for k in range(1, count):
        x, y, w, h = stats[k, :4]
        w, h = w - 2 * radius, h - 2 * radius
        if not lo <= max(w, h) <= hi or min(w, h) < 0.5 * max(w, h):
            continue
        sl = np.s_[y:y + h + 2 * radius, x:x + w + 2 * radius]
        ink = window[sl] & (labels[sl] == k)
        ys, xs = np.nonzero(ink)
        hull = cv2.convexHull(np.stack([xs, ys], axis=1).astype(np.int32)) + np.array([x, y], np.int32)
        if not _is_tag_shape(hull) or not _has_text(window, hull, shrink=round(1.5 * ppt) + 1):
            continue
        # An outline, not a letter: ink along most of the hull's edge.
        edge = np.zeros((h + 2 * radius, w + 2 * radius), np.uint8)
        cv2.drawContours(edge, [hull - np.array([x, y], np.int32)], 0, 1, thickness=1)
        near = cv2.dilate(ink, np.ones((2 * round(ppt) + 1,) * 2, np.uint8))
        if cv2.countNonZero(edge & near) >= 0.75 * cv2.countNonZero(edge):
            shapes.append(hull)
    return shapes


def _has_text(window: np.ndarray, hull: np.ndarray, shrink: int = 0) -> bool:
    """Ink (a number or letter) inside `hull`, `shrink` pixels in from its edge."""
    x, y, w, h = cv2.boundingRect(hull)
    inside = np.zeros((h, w), np.uint8)
    cv2.drawContours(inside, [hull - np.array([x, y], hull.dtype)], 0, 1, thickness=cv2.FILLED)
    if shrink:
        inside = cv2.erode(inside, np.ones((2 * shrink + 1,) * 2, np.uint8))
    area = cv2.countNonZero(inside)
    return area > 0 and cv2.countNonZero(window[y:y + h, x:x + w] & inside) >= 0.015 * area


def _is_tag_shape(hull: np.ndarray) -> bool:
    """A triangle (3 corners), or a hexagon or circle (5 corners or more, round: 4 pi area / perimeter^2
    is 0.91 for a hexagon, 1 for a circle, 0.79 for a square, 0.60 for a triangle)."""
    perimeter = cv2.arcLength(hull, True)
    if perimeter <= 0:
        return False
    corners = len(cv2.approxPolyDP(hull, 0.04 * perimeter, True))
    roundness = 4 * np.pi * cv2.contourArea(hull) / perimeter ** 2
    return corners == 3 or (corners >= 5 and roundness >= 0.85)
