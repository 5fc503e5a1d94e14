"""Revision clouds in a changed-ink mask: closed outlines made of outward-bulging arcs, and their tags.

A designer rings a revision with a cloud (a chain of scallops) and puts a tag beside it or on it (a delta,
hexagon or circle with the revision's number). On the new page the cloud is added ink, so it shows in
the diff's `added` mask (in `removed` when it was erased), usually with the revised content inside it.

The page is screened on a coarse grid (8 px cells, any ink), so an empty or sparse mask costs one pass
over its bytes. Each connected group of cells big enough for a cloud is cut out at full resolution; gaps
a few points wide (where the cloud crosses unchanged dark lines, which are not in the mask) are bridged,
the enclosed area is filled, and the outer contour is walked: a cloud's contour is a run of convex arcs
of similar size separated by sharp concave cusps, around an area that is wide compared with an arc and
mostly free of ink. Every figure is in points (px * 72 / dpi) or a ratio, so it holds at any DPI.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from buildtrace_desktop.processing.cloud_outline import (
    OutlineFigures,
    confidence_of,
    measure_outline,
    outline_passes,
)
from buildtrace_desktop.processing.cloud_tags import TAG_REACH_PT, TAG_SIZE_PT, find_tag

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), pixels

MIN_SIDE_PT = 18.0  # smaller outlines are symbols, not clouds (the smallest clouds are about an inch)
GAP_PT = 14.0  # gaps bridged: a dark line crossed (its width plus the diff's tolerance both sides)
WIDE_GAP_PT = 40.0  # and where nothing was found, wider gaps (a scan's diff loses light strokes) ...
JOINT_GAP_PT = 4.0  # gaps between neighbouring arcs bridged: below a scallop's width, so notches stay open
WIDE_GAP_MAX_PX = 4_000_000  # ... in regions up to this size, where a distance transform is cheap
# No part of a cloud is straight over this: a 40 pt scallop of bulge 0.15 keeps within a 2 px line for
# about 12 pt at 150 dpi.
STRAIGHT_PT = 24.0
MIN_WIDTH_CHORDS = 1.0  # the enclosed area's inscribed radius, in chords: a chain of bubbles is 0.5
MAX_INK_FILL = 0.6  # ink / enclosed area: a cloud rings a mostly empty area; a text blob is full
MAX_LINE_PT = 2.5  # a cloud is drawn with a pen, not a brush
MAX_LINE_CHORDS = 0.3  # ... and its line is thin against its scallops


@dataclass
class CloudShape:
    box_px: Box  # outline and tag, in mask pixels
    outline_px: Box  # the scalloped outline alone
    tag_px: Box | None  # the tag (delta, hexagon or circle with its text), if found
    mask: np.ndarray  # uint8 0/1, shape of box_px: outline and tag pixels only, not the enclosed content
    scallops: int  # arcs counted along the outline
    confidence: float  # 0..1


def find_clouds(mask: np.ndarray, dpi: float) -> list[CloudShape]:
    """Revision clouds drawn in a changed-ink mask (uint8 0/1, full page, `dpi` pixels per inch).
    Boxes are in the mask's pixels; each cloud's `mask` covers its box."""
    if mask.dtype == bool:
        mask = mask.view(np.uint8)
    if not cv2.countNonZero(mask):
        return []
    cell = _cell_px(dpi)
    grid = _occupied_cells(mask, cell)
    clouds: list[CloudShape] = []
    for gap_pt, wide in ((GAP_PT, False), (WIDE_GAP_PT, True)):
        radius = max(1, round(gap_pt * dpi / 72.0 / 2))
        pad = radius + 2  # room for the bridging growth
        for (x0, y0, x1, y1), keep in _candidate_regions(grid, cell, mask.shape, radius, dpi):
            if wide and ((x1 - x0) * (y1 - y0) > WIDE_GAP_MAX_PX
                         or any(overlap(c.outline_px, (x0, y0, x1, y1)) for c in clouds)):
                continue
            ink = np.zeros((y1 - y0 + 2 * pad, x1 - x0 + 2 * pad), np.uint8)
            cv2.bitwise_and(mask[y0:y1, x0:x1], keep, dst=ink[pad:-pad, pad:-pad])
            for cloud, contour in _clouds_in_region(_without_straight_runs(ink, dpi), radius, wide, dpi):
                shift = np.array([x0 - pad, y0 - pad], contour.dtype)
                clouds.append(_with_tag(_offset(cloud, x0 - pad, y0 - pad), contour + shift, mask, dpi))
    return clouds


def _without_straight_runs(ink: np.ndarray, dpi: float) -> np.ndarray:
    """`ink` less its horizontal and vertical runs straighter than a pixel over STRAIGHT_PT: walls, grid
    and leader lines that touch a cloud and would join it to the rest of the drawing."""
    n = max(3, round(STRAIGHT_PT * dpi / 72.0))
    runs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, n), np.uint8))
    runs |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((n, 1), np.uint8))
    return ink & (1 - runs)


def overlap(a: Box, b: Box) -> bool:
    """Whether two pixel boxes overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# --- screening on a coarse grid


def _cell_px(dpi: float) -> int:
    """Coarse cell: 8 px (one uint64 per cell row) up to 225 dpi, 16 px above: 2.5-4 pt either way."""
    return 8 * max(1, round(dpi / 150))


def _occupied_cells(mask: np.ndarray, cell: int) -> np.ndarray:
    """uint8 grid, 1 where a cell x cell block of `mask` holds any ink (`cell` a multiple of 8)."""
    h, w = mask.shape
    rows = np.zeros((-(-h // cell), -(-w // 8) * 8), np.uint8)
    for k in range(cell):  # OR the cell's rows together, a strided view at a time
        part = mask[k::cell]
        view = rows[: part.shape[0], :w]
        cv2.max(view, part, dst=view)
    occupied = rows.view(np.uint64) != 0  # eight pixels of a row per word
    per = cell // 8
    if per > 1:
        padded = np.zeros((occupied.shape[0], -(-occupied.shape[1] // per) * per), bool)
        padded[:, : occupied.shape[1]] = occupied
        occupied = padded.reshape(occupied.shape[0], -1, per).any(axis=2)
    return occupied.astype(np.uint8)


def _candidate_regions(grid: np.ndarray, cell: int, shape: tuple[int, int], radius: int,
                       dpi: float) -> list[tuple[Box, np.ndarray]]:
    """Boxes (pixels) of groups of occupied cells, joined across gaps up to twice `radius` (pixels), big
    enough to hold a cloud; each with a 0/1 array that keeps only the group's own cells (a neighbour's
    ink may reach into the box)."""
    # Ink a gap apart has at most gap / cell + 1 empty cells between: r cells of growth join 2r.
    r = max(1, int(np.ceil((2 * radius / cell + 1) / 2)))
    grown = cv2.dilate(grid, np.ones((2 * r + 1, 2 * r + 1), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    min_cells = MIN_SIDE_PT * dpi / 72.0 / cell + 2 * r  # the growth added r cells on each side
    h, w = shape
    regions = []
    for k in range(1, count):
        cx, cy, cw, ch = stats[k, :4]
        if cw < min_cells or ch < min_cells:
            continue
        box = (cx * cell, cy * cell, min(w, (cx + cw) * cell), min(h, (cy + ch) * cell))
        own = (labels[cy:cy + ch, cx:cx + cw] == k).astype(np.uint8)
        keep = cv2.resize(own, (cw * cell, ch * cell), interpolation=cv2.INTER_NEAREST)
        regions.append((box, keep[: box[3] - box[1], : box[2] - box[0]]))
    return regions


# --- one region at full resolution


def _clouds_in_region(ink: np.ndarray, radius: int, isotropic: bool,
                      dpi: float) -> list[tuple[CloudShape, np.ndarray]]:
    """Clouds whose outline lies in `ink` (a 0/1 crop with an empty margin of radius + 2), gaps up to
    twice `radius` (pixels) bridged; each with its outer contour, relative to the crop."""
    ppt = dpi / 72.0
    enclosed = _enclosed_area(ink, radius, isotropic)
    shape = ink | enclosed
    near_ink = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    clouds = _clouds_of_shape(ink, near_ink, shape, [], dpi)
    # Then with the pockets filled, for outlines not found so far: only then, because the growth that
    # closes a pocket may also close the notch between scallops a few pixels wide.
    pockets = _pockets(shape, enclosed, max(1, round(JOINT_GAP_PT * ppt / 2)))
    if cv2.countNonZero(pockets):
        clouds += _clouds_of_shape(ink, near_ink, shape | pockets, [c.outline_px for c, _ in clouds], dpi)
    return clouds


def _clouds_of_shape(ink: np.ndarray, near_ink: np.ndarray, shape: np.ndarray, found: list[Box],
                     dpi: float) -> list[tuple[CloudShape, np.ndarray]]:
    """Clouds among the outer contours of `shape` (ink and the areas it encloses), except where one of
    the `found` boxes is."""
    contours, _ = cv2.findContours(shape, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    min_px = MIN_SIDE_PT * dpi / 72.0
    clouds = []
    for contour in contours:
        bx, by, bw, bh = cv2.boundingRect(contour)
        if bw < min_px or bh < min_px or any(overlap(box, (bx, by, bx + bw, by + bh)) for box in found):
            continue
        points = contour[:, 0, :]
        figures = measure_outline(points.astype(np.float64), near_ink[points[:, 1], points[:, 0]] > 0, dpi)
        if figures is None or not outline_passes(figures):
            continue
        cloud = _cloud_from_region(ink, contour, figures, dpi)
        if cloud is not None:
            clouds.append((cloud, contour))
    return clouds


def _enclosed_area(ink: np.ndarray, radius: int, isotropic: bool) -> np.ndarray:
    """The area inside outlines with gaps up to twice `radius` (pixels). Grown by the radius, the ink
    closes the gaps; what it then encloses, grown back (a pixel more, so it meets the ink), is the area
    inside. Added to the ungrown ink, it keeps the outline's cusps and fills the gaps. (A closing would
    not do: it pinches off again at a gap in a thin line.) A square grows ten times faster than a disk
    (a distance transform) but falls short of a tilted line by up to 2 * radius * tan(tilt), which
    opens the outline at its gaps when the radius is large: wide gaps get the disk."""
    if isotropic:
        grown = (cv2.distanceTransform(1 - ink, cv2.DIST_L2, 5) <= radius).astype(np.uint8)
        inside = _fill_holes(grown) & (1 - grown)
        return (cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5) <= radius + 1.5).astype(np.uint8)
    grown = cv2.dilate(ink, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))
    return cv2.dilate(_fill_holes(grown) & (1 - grown), np.ones((2 * radius + 3, 2 * radius + 3), np.uint8))


def _pockets(shape: np.ndarray, enclosed: np.ndarray, radius: int) -> np.ndarray:
    """Pockets between arcs and the enclosed area that open only through gaps up to twice `radius`:
    where an unchanged line runs along a cloud's inside, the diff cuts its cusps and the arcs stand
    apart. Only pockets on the enclosed area count: a notch between small scallops, which the same
    growth may close, lies outside the outline."""
    square = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    grown = cv2.dilate(shape, square)
    holes = _fill_holes(grown) & (1 - grown)
    if not cv2.countNonZero(holes):
        return holes
    count, labels = cv2.connectedComponents(holes, connectivity=4)
    # A pocket's hole lies radius + 1 from the enclosed area; a notch's at least a line width more.
    beside = cv2.dilate(enclosed, np.ones((2 * radius + 3, 2 * radius + 3), np.uint8)) > 0
    keep = np.zeros(count, np.uint8)
    keep[np.unique(labels[beside & (holes > 0)])] = 1
    keep[0] = 0
    return cv2.dilate(keep[labels], np.ones((2 * radius + 3, 2 * radius + 3), np.uint8))


def _fill_holes(binary: np.ndarray) -> np.ndarray:
    """`binary` (0/1, background on its border) with every enclosed background area set to 1."""
    outside = binary.copy()
    cv2.floodFill(outside, None, (0, 0), 1)  # 4-connected: a diagonal pixel gap does not leak
    return binary | (1 - outside)


def _cloud_from_region(ink: np.ndarray, contour: np.ndarray, figures: OutlineFigures,
                       dpi: float) -> CloudShape | None:
    """The cloud whose outer contour is `contour`, if the area it rings looks like one."""
    bx, by, bw, bh = cv2.boundingRect(contour)
    region = np.zeros((bh + 2, bw + 2), np.uint8)  # a pixel of margin: the distance is to the outside
    cv2.drawContours(region, [contour], 0, 1, thickness=cv2.FILLED, offset=(1 - bx, 1 - by))
    depth = cv2.distanceTransform(region, cv2.DIST_L2, 3)[1:-1, 1:-1]
    region = region[1:-1, 1:-1]
    ppt = dpi / 72.0
    area = cv2.countNonZero(region)
    ink_here = ink[by:by + bh, bx:bx + bw] & region
    # Line width: the ink within 3 pt of the outside, spread along the outline's length.
    perimeter = cv2.arcLength(contour, True)
    band = ink_here & (depth <= 3 * ppt)
    line_px = cv2.countNonZero(band) / max(perimeter, 1.0)
    chord_px = figures.chord_pt * ppt
    if line_px > min(MAX_LINE_PT * ppt, MAX_LINE_CHORDS * chord_px):
        return None
    if float(depth.max()) < MIN_WIDTH_CHORDS * chord_px:
        return None
    if cv2.countNonZero(ink_here) / max(area, 1) > MAX_INK_FILL:
        return None
    # The outline's pixels: ink near the outside, along the cloud's own stretches of the contour. Where
    # two arcs cross at a cusp the ink reaches deeper than one line width, hence the margin.
    reach = 2.5 * line_px + 1.5
    along = np.zeros_like(region)
    own = np.round(figures.path[figures.on_outline]).astype(int) - np.array([bx, by])
    own = own[(own[:, 0] >= 0) & (own[:, 0] < bw) & (own[:, 1] >= 0) & (own[:, 1] < bh)]
    along[own[:, 1], own[:, 0]] = 1
    size = 2 * int(np.ceil(reach)) + 1
    along = cv2.dilate(along, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    outline = (ink_here & along & (depth <= reach)).astype(np.uint8)
    ys, xs = np.nonzero(outline)
    if not len(xs):
        return None
    ox0, oy0, ox1, oy1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    box = (bx + ox0, by + oy0, bx + ox1, by + oy1)
    confidence = confidence_of(figures)
    return CloudShape(box_px=box, outline_px=box, tag_px=None, mask=outline[oy0:oy1, ox0:ox1].copy(),
                      scallops=figures.scallops, confidence=confidence)


# --- the tag


def _with_tag(cloud: CloudShape, contour: np.ndarray, mask: np.ndarray, dpi: float) -> CloudShape:
    """The cloud with the tag next to its outline (`contour`, page pixels), if there is one: the tag's
    box and pixels join the cloud's."""
    ppt = dpi / 72.0
    reach = round((TAG_REACH_PT + TAG_SIZE_PT[1]) * ppt)
    x0, y0, x1, y1 = cloud.outline_px
    wx0, wy0 = max(0, x0 - reach), max(0, y0 - reach)
    wx1, wy1 = min(mask.shape[1], x1 + reach), min(mask.shape[0], y1 + reach)
    window = mask[wy0:wy1, wx0:wx1]
    outline = np.zeros_like(window)
    outline[y0 - wy0:y1 - wy0, x0 - wx0:x1 - wx0] = cloud.mask
    found = find_tag(window, outline, contour - np.array([wx0, wy0], contour.dtype), ppt)
    if found is None:
        return cloud
    (tx0, ty0, tx1, ty1), tag_pixels = found
    tag = (tx0 + wx0, ty0 + wy0, tx1 + wx0, ty1 + wy0)
    box = (min(x0, tag[0]), min(y0, tag[1]), max(x1, tag[2]), max(y1, tag[3]))
    merged = np.zeros((box[3] - box[1], box[2] - box[0]), np.uint8)
    merged[y0 - box[1]:y1 - box[1], x0 - box[0]:x1 - box[0]] = cloud.mask
    merged[tag[1] - box[1]:tag[3] - box[1], tag[0] - box[0]:tag[2] - box[0]] |= tag_pixels
    return CloudShape(box_px=box, outline_px=cloud.outline_px, tag_px=tag, mask=merged, scallops=cloud.scallops,
                      confidence=cloud.confidence)


def _offset(cloud: CloudShape, dx: int, dy: int) -> CloudShape:
    """The cloud moved by (dx, dy) pixels."""
    def move(box: Box | None) -> Box | None:
        return None if box is None else (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)

    return CloudShape(box_px=move(cloud.box_px), outline_px=move(cloud.outline_px), tag_px=move(cloud.tag_px),
                      mask=cloud.mask, scallops=cloud.scallops, confidence=cloud.confidence)
