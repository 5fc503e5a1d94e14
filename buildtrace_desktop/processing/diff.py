"""Diff two aligned page images into change regions a reviewer sees as one thing.

Ink is gray below a threshold. New ink with no old ink within a tolerance is added; old ink with no new
ink within it is removed. The tolerance absorbs anti-aliasing, line-weight differences and a pixel or two
of registration. Differing pixels are grouped by proximity into regions; a region with both added and
removed ink is modified. Only tiles that differ at all get the expensive work, so identical areas
(most of a revised sheet) cost one subtraction.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from buildtrace_desktop.processing import cloud_marks, wordcheck
from buildtrace_desktop.processing.imaging import any_pool, drop_specks
from buildtrace_desktop.processing.regions import Region
from buildtrace_desktop.processing.shapes import same_figure
from buildtrace_desktop.processing.types import Change

TILE = 256  # pixels
DARK = 110  # gray below this is dark ink (text, heavy lines)
LIGHT_LOOSE = 235  # any visible mark: explains light ink on the other side
SCAN_LOOSE = 235  # a scan's faint halo explains ink; darker limits let its noise through (measured)
# Dark strokes of a scan (after the contrast stretch) must be explained by medium ink: catches text that
# changed inside a word. 90/180 found one more change on the corpus scans and no false one; 90/170
# already reported false ones on the unchanged scan, so the margin is thin (measured, corpus/edits).
SCAN_DARK = 90
SCAN_DARK_LOOSE = 180
# A scanner's optics spread a line over about a tenth of a millimetre: a one-pixel black line of a render
# comes out of it gray. Blurring the render by as much before the ink levels apply keeps every thin line
# of a scanned sheet from reading as lighter, i.e. removed, ink.
SCANNER_BLUR_PT = 0.35
DARK_LOOSE = 160
RENDER_LIGHT_LEVEL = (200, SCAN_LOOSE)  # a render's light ink against a scan
# Clouds are often drawn in colour, which a scan turns mid-gray: at the scan's strict level their outline
# falls apart into pieces no contour walk can follow. Clouds are looked for at this level too.
SCAN_CLOUD_LEVEL = (200, SCAN_LOOSE)


@dataclass
class DiffParams:
    tolerance_px: int  # ink within this distance counts as the same ink
    min_blob_px: int  # smaller specks of difference are noise
    group_pt: float  # differences closer than this (points) are one change
    min_region_px: int  # a region with less changed ink is dropped
    levels: tuple[tuple[int, int], ...]  # (strict, loose) gray thresholds compared, see changed_ink


def params_for(dpi: float, scanned: bool, resampled: bool = False) -> DiffParams:
    """Diff parameters at `dpi`. `resampled`: the old page was drawn through a non-identity transform,
    so its rasterisation grid differs from the new one's by up to a pixel."""
    px_per_pt = dpi / 72.0
    if scanned:
        # Scans: blur, JPEG ringing, toner speckle and residual warp need a wider tolerance.
        return DiffParams(tolerance_px=max(2, round(1.45 * px_per_pt)), min_blob_px=max(6, round(4 * px_per_pt ** 2)),
                          # A changed digit of 8 pt text is 15-40 pixels at 150 dpi: a smaller floor found
                          # 3 more of the corpus's 23 scanned changes and no false one on the unchanged
                          # scan (measured; 10 * px_per_pt ** 2 before). On real rasters it also reports
                          # small pieces of revision clouds and strike-outs beside their main region.
                          group_pt=9.0, min_region_px=max(12, round(3 * px_per_pt ** 2)),
                          # A scan compresses ink darkness: its dark level sits lower than a render's.
                          levels=((150, SCAN_LOOSE), (SCAN_DARK, SCAN_DARK_LOOSE)))
    return DiffParams(tolerance_px=max(1, round(0.7 * px_per_pt)) + int(resampled), min_blob_px=max(2, round(0.6 * px_per_pt ** 2)),
                      group_pt=7.0, min_region_px=max(6, round(2 * px_per_pt ** 2)),
                      levels=((200, LIGHT_LOOSE), (DARK, DARK_LOOSE)))


def prepare_scan(img: np.ndarray) -> np.ndarray:
    """Black-on-white, speckle-free version of a scanned page, comparable with a vector render."""
    return stretch_contrast(img)


def diff_images(old: np.ndarray, new: np.ndarray, dpi: float, old_scan: bool = False, new_scan: bool = False,
                valid: np.ndarray | None = None, resampled: bool = False,
                word_boxes_px: list[tuple[float, float, float, float]] | None = None,
                colour: tuple[np.ndarray, np.ndarray] | None = None,
                cloud_scales: tuple[float, ...] = (1.0,)) -> list[Region]:
    """Change regions between `old` (already aligned to new) and `new`, both uint8 gray, same shape.
    `valid` (uint8 0/1) limits the diff to where the old page actually covers the new one.
    `word_boxes_px`: for a scan against a rendered page, the rendered page's words (new-image pixels),
    checked one by one (see changed_words). `colour`: (old, new) chroma images of a colour scan's pair,
    where revision clouds are looked for too (cloud_marks.colour_changes). `cloud_scales`: see
    cloud_marks.take_out_clouds."""
    if old.shape != new.shape:
        raise ValueError(f"images differ in shape: {old.shape} vs {new.shape}")
    p = params_for(dpi, old_scan or new_scan, resampled)
    sharp_old, sharp_new = old, new
    if old_scan != new_scan:
        # The dark level compares like with like: the render as a scanner would have seen it (a scan
        # shows a one-pixel black line of a render as gray). Light marks are compared sharp: blurred,
        # a fine hatch symbol of the render would fade below the ink level.
        sigma = SCANNER_BLUR_PT * dpi / 72.0
        if new_scan:
            old = cv2.GaussianBlur(old, (0, 0), sigma)
        else:
            new = cv2.GaussianBlur(new, (0, 0), sigma)
        added, removed = changed_ink(sharp_old, sharp_new, replace(p, levels=p.levels[:1]))
        # The render has no noise: its light line work (a gray hatch, a fine frame) is ink as on a
        # vector pair, and must be explained by the scan's; the scan's own ink stays at the scan level.
        light = changed_ink(sharp_old, sharp_new, replace(p, levels=(RENDER_LIGHT_LEVEL,)))
        if new_scan:
            removed |= light[1]
        else:
            added |= light[0]
        dark_added, dark_removed = changed_ink(old, new, replace(p, levels=p.levels[1:]))
        added |= dark_added
        removed |= dark_removed
    else:
        added, removed = changed_ink(old, new, p)
    if valid is not None:
        added &= valid
        removed &= valid
    # Scan noise is everywhere on a scanned side: drop its specks before grouping, or they would chain
    # regions together. A vector side has few; group_regions drops them per region, far cheaper.
    small_blob = params_for(dpi, False).min_blob_px
    if new_scan:
        added = drop_specks(added, p.min_blob_px)
    if old_scan:
        removed = drop_specks(removed, p.min_blob_px)
    cloud_ink = _scan_cloud_ink(sharp_old, sharp_new, p, added if new_scan else None, removed if old_scan else None)
    if colour is not None:
        colour = cloud_marks.colour_changes(*colour, p.tolerance_px, p.min_blob_px)
    if valid is not None:
        cloud_ink = tuple(None if m is None else m & valid for m in cloud_ink)
        colour = None if colour is None else (colour[0] & valid, colour[1] & valid)
    if old_scan or new_scan:
        p = replace(p, min_blob_px=small_blob)
    cloud_regions = cloud_marks.take_out_clouds(added, removed, dpi, *cloud_ink, colour=colour, scales=cloud_scales)
    regions = group_regions(added, removed, dpi, p)
    if word_boxes_px:
        check = wordcheck.changed_words if old_scan or new_scan else wordcheck.retyped_words
        words = check(sharp_old, sharp_new, word_boxes_px, dpi)
        if valid is not None:
            words = [r for r in words if valid[(r.box_px[1] + r.box_px[3]) // 2, (r.box_px[0] + r.box_px[2]) // 2]]
        regions = merge_nearby(regions + words, p.group_pt * dpi / 72.0, LARGE_REGION * new.size)
    if old_scan or new_scan:  # a scan redraws every stroke thicker or thinner: that is no revision
        regions = [r for r in regions if not _reweighted(old, new, r.box_px, p)]
    tags = [c.tag_px for c in cloud_regions if c.tag_px is not None]
    regions = [r for r in regions if not any(cloud_marks.mostly_inside(r.box_px, tag) for tag in tags)]  # the tag's text
    regions = [r for r in regions if not any(cloud_marks.on_outline(r.box_px, c, dpi) for c in cloud_regions)]
    return cloud_regions + regions


def _scan_cloud_ink(old: np.ndarray, new: np.ndarray, p: DiffParams, added: np.ndarray | None,
                    removed: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(added, removed) ink of a scanned side at SCAN_CLOUD_LEVEL, specks dropped, for the sides whose
    ink at the strict level is given (a render's strict level already holds a coloured cloud whole).
    Only around the strict ink: a cloud that falls apart there still leaves pieces all along it."""
    out: list[np.ndarray | None] = []
    near = np.ones((3, 3), np.uint8)
    for k, strict in enumerate((added, removed)):
        if strict is None:
            out.append(None)
            continue
        where = cv2.dilate(any_pool(any_pool(strict, 16), TILE // 16), near)
        soft = changed_ink(old, new, replace(p, levels=(SCAN_CLOUD_LEVEL,)), where)[k]
        out.append(drop_specks(soft, p.min_blob_px))
    return out[0], out[1]


def _reweighted(old: np.ndarray, new: np.ndarray, box: tuple[int, int, int, int], p: DiffParams) -> bool:
    """Whether a region's ink draws the same figure on both sides, only in another line weight (a seal
    rendered bold in the file and fine in the scan, toner spread)."""
    r = p.tolerance_px
    x0, y0 = max(0, box[0] - r), max(0, box[1] - r)
    x1, y1 = min(new.shape[1], box[2] + r), min(new.shape[0], box[3] + r)
    strict, loose = p.levels[0]
    o, n = old[y0:y1, x0:x1], new[y0:y1, x0:x1]
    o_ink, n_ink = _ink(o, strict), _ink(n, strict)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    changed = (o_ink & (1 - cv2.dilate(_ink(n, loose), kernel))) | (n_ink & (1 - cv2.dilate(_ink(o, loose), kernel)))
    if not changed.any():
        return False  # found by the finer word-by-word check: a changed character, not a weight
    near = cv2.dilate(changed, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * r + 1, 4 * r + 1)))
    return same_figure(o_ink, n_ink, r, where=near)


def stretch_contrast(img: np.ndarray) -> np.ndarray:
    """Map a scan's paper to white and its darkest ink to black (a lookup table).

    Printing and scanning lift ink to gray and paper to off-white; a vector render is black on white.
    Stretching puts both on one scale before the ink thresholds apply."""
    hist = cv2.calcHist([img], [0], None, [256], [0, 256]).ravel()
    cdf = np.cumsum(hist) / max(1.0, hist.sum())
    ink = int(np.searchsorted(cdf, 0.002))
    paper = int(np.searchsorted(cdf, 0.5))
    if paper - ink < 32:
        return img  # nothing to stretch: blank or already black on white
    levels = np.arange(256, dtype=np.float32)
    lut = np.clip((levels - ink) * 255.0 / (paper - ink), 0, 255).astype(np.uint8)
    return cv2.LUT(img, lut)


def _ink(img: np.ndarray, level: int) -> np.ndarray:
    """0/1 mask of gray < level."""
    return cv2.threshold(img, level - 1, 1, cv2.THRESH_BINARY_INV)[1]


def level_masks(old: np.ndarray, new: np.ndarray, strict: int, loose: int) -> tuple[np.ndarray, ...]:
    """(old strict, new strict, old loose, new loose) ink masks. Ink at the strict level must be explained
    by ink at the loose level on the other side: a hairline that renders at gray 205 in one raster and
    195 in the other (sub-pixel phase) is the same line."""
    return _ink(old, strict), _ink(new, strict), _ink(old, loose), _ink(new, loose)


def changed_ink(old: np.ndarray, new: np.ndarray, p: DiffParams,
                where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Masks (uint8 0/1) of added and removed ink, computed only in tiles where the ink differs (and,
    with `where`, a 0/1 grid of TILE cells, only in the cells it marks).

    Ink is compared at two levels: all ink (light hairlines, hatching) and dark ink only. Dark text on a
    light hatch would otherwise hide: every new stroke lies within a pixel of some hatch line.
    """
    h, w = new.shape
    r = p.tolerance_px
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    # Ink strict on one side and not even loose on the other differs by more than the gap between the
    # two levels, so pixels closer than the smallest gap cannot differ: one subtraction finds the tiles
    # worth the work (on a revised sheet in the common frame, a few percent of them).
    if where is None:
        gap = min(loose - strict for strict, loose in p.levels)
        candidates = cv2.threshold(cv2.absdiff(old, new), gap, 1, cv2.THRESH_BINARY)[1]
        busy = any_pool(any_pool(candidates, 16), TILE // 16)  # two passes: any_pool's cell is at most 22
    else:
        busy = where

    def one_sided(o, n, o_loose, n_loose) -> tuple[np.ndarray, np.ndarray]:
        return n & (1 - cv2.dilate(o_loose, kernel)), o & (1 - cv2.dilate(n_loose, kernel))

    if not busy.any():
        return np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
    if where is None and busy.mean() > 0.5:  # scans differ everywhere: whole-image operations are faster than tiles
        levels = [level_masks(old, new, strict, loose) for strict, loose in p.levels]
        added = np.zeros((h, w), np.uint8)
        removed = np.zeros((h, w), np.uint8)
        for level in levels:
            a, rm = one_sided(*level)
            added |= a
            removed |= rm
        return added, removed
    added = np.zeros((h, w), np.uint8)
    removed = np.zeros((h, w), np.uint8)
    for j, i in zip(*np.nonzero(busy), strict=True):
        y0, x0 = j * TILE, i * TILE
        y1, x1 = min(h, y0 + TILE), min(w, x0 + TILE)
        # Work on the tile plus a margin so dilation at its edge sees the neighbours' ink.
        ya, xa, yb, xb = max(0, y0 - r), max(0, x0 - r), min(h, y1 + r), min(w, x1 + r)
        sl = (slice(y0 - ya, y1 - ya), slice(x0 - xa, x1 - xa))
        for strict, loose in p.levels:
            a, rm = one_sided(*level_masks(old[ya:yb, xa:xb], new[ya:yb, xa:xb], strict, loose))
            added[y0:y1, x0:x1] |= a[sl]
            removed[y0:y1, x0:x1] |= rm[sl]
    return added, removed


LARGE_REGION = 0.03  # of the page area: a region this big is many changes chained by proximity


def group_regions(added: np.ndarray, removed: np.ndarray, dpi: float, p: DiffParams, depth: int = 0) -> list[Region]:
    """Group changed pixels closer than `p.group_pt` into regions, on a coarse grid for speed.

    A region larger than LARGE_REGION of the page is grouped again with a third of the distance: on a
    heavily revised sheet, clouds and notes chain whole areas into one box no reviewer can use."""
    changed = cv2.bitwise_or(added, removed)
    if not cv2.countNonZero(changed):
        return []
    cell = min(15, max(1, int(round(p.group_pt * dpi / 72.0 / 3))))  # a few cells per grouping distance
    h, w = changed.shape
    grid = any_pool(changed, cell)
    reach = max(1, int(round(p.group_pt * dpi / 72.0 / cell)))
    grown = cv2.dilate(grid, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    large = LARGE_REGION * h * w if depth == 0 else float("inf")
    regions: list[Region] = []
    for label in range(1, n):
        gx0, gy0, gw, gh = (int(v) for v in stats[label, :4])
        sel = (labels[gy0:gy0 + gh, gx0:gx0 + gw] == label) & (grid[gy0:gy0 + gh, gx0:gx0 + gw] > 0)
        py0, px0 = gy0 * cell, gx0 * cell
        py1, px1 = min(h, (gy0 + gh) * cell), min(w, (gx0 + gw) * cell)
        cell_mask = np.kron(sel, np.ones((cell, cell), np.uint8))[: py1 - py0, : px1 - px0]
        a = drop_specks(added[py0:py1, px0:px1] & cell_mask, p.min_blob_px)
        r = drop_specks(removed[py0:py1, px0:px1] & cell_mask, p.min_blob_px)
        na, nr = int(cv2.countNonZero(a)), int(cv2.countNonZero(r))
        if na + nr < p.min_region_px or na + nr == 0:
            continue
        x, y, bw, bh = cv2.boundingRect(a | r)
        if bw * bh > large:
            finer = replace(p, group_pt=p.group_pt / 3)
            for sub in group_regions(a, r, dpi, finer, depth + 1):
                x0, y0, x1, y1 = sub.box_px
                regions.append(Region((px0 + x0, py0 + y0, px0 + x1, py0 + y1), sub.added_px, sub.removed_px))
            continue
        regions.append(Region((px0 + x, py0 + y, px0 + x + bw, py0 + y + bh), na, nr))
    return merge_nearby(regions, p.group_pt * dpi / 72.0, large)


def merge_nearby(regions: list[Region], gap_px: float, max_area_px: float = float("inf")) -> list[Region]:
    """Merge regions whose boxes overlap or nearly touch (nested or touching boxes confuse a reviewer),
    unless the merged box would be larger than `max_area_px`."""
    merged = True
    regions = list(regions)
    while merged:
        merged = False
        out: list[Region] = []
        for r in sorted(regions, key=lambda r: (r.box_px[1], r.box_px[0])):
            for i, o in enumerate(out):
                box = (min(r.box_px[0], o.box_px[0]), min(r.box_px[1], o.box_px[1]),
                       max(r.box_px[2], o.box_px[2]), max(r.box_px[3], o.box_px[3]))
                if _box_gap(r.box_px, o.box_px) <= gap_px * 0.5 and (box[2] - box[0]) * (box[3] - box[1]) <= max_area_px:
                    out[i] = Region(box, r.added_px + o.added_px, r.removed_px + o.removed_px)
                    merged = True
                    break
            else:
                out.append(r)
        regions = out
    return regions


def _box_gap(a: tuple, b: tuple) -> float:
    dx = max(0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0, max(a[1], b[1]) - min(a[3], b[3]))
    return max(dx, dy)


def kind_of(added_px: int, removed_px: int) -> str:
    total = added_px + removed_px
    if total == 0:
        return "modified"
    if removed_px < 0.1 * total:
        return "added"
    if added_px < 0.1 * total:
        return "removed"
    return "modified"


def regions_to_changes(regions: list[Region], dpi: float) -> list[Change]:
    """Regions in pixels to changes in points, largest first."""
    k = 72.0 / dpi
    changes = [
        Change(
            kind=kind_of(r.added_px, r.removed_px),
            bbox=(r.box_px[0] * k, r.box_px[1] * k, r.box_px[2] * k, r.box_px[3] * k),
            area=(r.added_px + r.removed_px) * k * k,
            added_px=r.added_px,
            removed_px=r.removed_px,
            what=f"revision cloud {r.cloud}" if r.cloud else "",
        )
        for r in regions
    ]
    changes.sort(key=lambda c: (round(c.bbox[1] / 72), c.bbox[0]))  # reading order, by inch bands
    return changes
