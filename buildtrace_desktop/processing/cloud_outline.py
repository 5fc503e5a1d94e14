"""The contour walk of a revision cloud: along a closed outline, the sharp concave cusps and the
outward arcs between them (scallops), measured in points so the figures hold at any DPI."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CUSP_SPAN_PT = 1.2  # half-span of the chord that measures concavity: below the smallest scallop
CUSP_MIN_PX = 3.0  # ... but at least three pixels: at two, pixel steps after smoothing reach 0.25
# A cusp's arms meet at a sharp angle: its depth below the chord, over the half-span, is cos(angle / 2)
# for straight arms; measured 0.29-0.45 on flat 0.15-0.19-bulge cubic scallops (the arms curve away),
# 0.8 and more on round ones, at most 0.08 on smooth rendered ink. Noise that passes is dropped by the
# rise test below; a right-angle corner (0.71) by the arc test (its sides are straight).
CUSP_MIN_DEPTH = 0.15
# Scallop chords drafters draw: CAD clouds' arcs are a quarter to half an inch (18-36 pt), hand and markup
# clouds from about 6 pt; under 5 pt a chain of "scallops" is a dotted line (its dots 2-4 pt apart).
ARC_CHORD_PT = (5.0, 60.0)
ARC_MIN_BULGE = 0.1  # sagitta / chord: a flat cubic scallop is 0.19, a semicircle 0.5; lines are 0
ARC_MAX_BULGE = 0.8
ARC_MIN_SAG_PX = 0.5  # an arc stands out of its chord by more than the smoothed contour's own wobble
ARC_MAX_SAG_IN = 0.12  # the part between cusps may dip inward this much (of its chord): noise only
ARC_MAX_LENGTH = 1.9  # arc length / chord: a semicircle is 1.57; a square bump (a column) is 2 and more
ARC_MAX_SHOULDER = 0.95  # height a quarter along (at either end), over the full height: see _curved
# A real cusp lies below the line joining the tops of the arcs beside it (by their sagitta; measured 1.3 px
# at a cloud's corner, 3-4 px elsewhere at 150 dpi); a notch of noise on one arc lies above it.
CUSP_MIN_RISE = 0.04  # of the shorter chord beside it
SWEEP_BINS = 72  # directions of 5 degrees
ARC_MIN_INKED = 0.75  # of an arc's length on ink (within a pixel), not across a bridged gap
MIN_SCALLOPS = 6  # fewer arcs is a door swing, a bubble or a symbol
MIN_COVERAGE = 0.45  # arcs must make up this much of the outline (a tag, gaps or content crossing it
# take the rest)
MIN_REGULAR = 0.7  # fraction of arcs whose chord is within a factor 2 of the median: drafted scallops repeat


@dataclass
class OutlineFigures:
    """What the contour walk measured (lengths in points)."""

    scallops: int
    coverage: float  # arcs' length / contour length
    regular: float  # fraction of arcs with chord within a factor 2 of the median
    chord_pt: float  # median chord
    spread: float  # interquartile range of the chords / median
    joined: float  # fraction of the cusps between two arcs that lie on ink
    bulge: float  # median sagitta / chord
    sweep: float  # fraction of the directions around the centre that the arcs span
    path: np.ndarray  # the contour resampled at 1 px (M x 2, pixels)
    on_outline: np.ndarray  # M booleans: the point is on the cloud, not on something attached to it


def measure_outline(points: np.ndarray, inked: np.ndarray, dpi: float) -> OutlineFigures | None:
    """Scallop figures of a closed contour (N x 2 pixel coordinates, as cv2.findContours gives them;
    `inked`: N booleans, the point lies on ink rather than across a bridged gap): cusps are sharp
    concave points, arcs the convex runs of ink between them. None if it has no cusps."""
    ppt = dpi / 72.0
    path, on_ink = _resampled(_smoothed(points, max(1.0, 0.3 * ppt)), inked, 1.0)
    n = len(path)
    m = int(round(max(CUSP_MIN_PX, CUSP_SPAN_PT * ppt)))
    if n < 8 * m:
        return None
    orientation = 1.0 if _signed_area(path) > 0 else -1.0
    depth = _concave_depth(path, m, orientation) / m
    cusps = _local_maxima(depth, m, CUSP_MIN_DEPTH)
    if len(cusps) < 3:
        return None
    cusps, chord, bulge, length, arc = _arcs_between(path, on_ink, cusps, orientation, ppt)
    if arc.sum() < 3:
        return None
    median = float(np.median(chord[arc]))
    regular = float(np.mean((chord[arc] >= median / 2) & (chord[arc] <= median * 2)))
    q1, q3 = np.percentile(chord[arc], [25, 75])
    # Where two arcs meet, on ink: a dashed or dotted line bridged across its gaps has its "cusps" there.
    joints = arc & np.roll(arc, 1)
    joined = float(on_ink[cusps[joints]].mean()) if joints.any() else 0.0
    # The cloud's own line: its arcs, and what is short between them (a corner, a gap, a cusp missed);
    # a long run that is no arc is something attached (a leader, a wall, the tag, content crossing).
    own = arc | (length <= 2 * ARC_MAX_LENGTH * median)
    on_outline = np.roll(np.repeat(own, length), cusps[0])
    return OutlineFigures(scallops=int(arc.sum()), coverage=float(length[arc].sum()) / n, regular=regular,
                          chord_pt=median / ppt, spread=float((q3 - q1) / median), joined=joined,
                          bulge=float(np.median(bulge[arc])),
                          sweep=_sweep(path, cusps[arc], (cusps[arc] + length[arc]) % n),
                          path=path, on_outline=on_outline)


def _sweep(path: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> float:
    """Fraction of the directions around the outline's centre that its arcs span: a cloud rings its
    area; something attached to it hides a few arcs, and stray arcs face one way."""
    x, y = path[:, 0], path[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    area = cross.sum() / 2
    if abs(area) < 1e-9:
        return 0.0
    centre = np.array([((x + np.roll(x, -1)) * cross).sum(), ((y + np.roll(y, -1)) * cross).sum()]) / (6 * area)
    angle = np.arctan2(path[:, 1] - centre[1], path[:, 0] - centre[0])
    a, b = angle[starts], angle[ends]
    turn = np.angle(np.exp(1j * (b - a)))  # the short way round, signed
    bins = SWEEP_BINS
    covered = np.zeros(bins, bool)
    for start, span in zip(a, turn, strict=False):
        lo, hi = sorted((start, start + span))
        covered[np.arange(int(np.floor(lo / (2 * np.pi) * bins)), int(np.ceil(hi / (2 * np.pi) * bins))) % bins] = True
    return float(covered.mean())


def outline_passes(f: OutlineFigures) -> bool:
    return f.scallops >= MIN_SCALLOPS and f.coverage >= MIN_COVERAGE and f.regular >= MIN_REGULAR


def confidence_of(f: OutlineFigures) -> float:
    """0..1 from how far the figures clear their limits: more arcs, more of the outline, more regular."""
    count = min(1.0, (f.scallops - MIN_SCALLOPS + 2) / 12)
    coverage = min(1.0, (f.coverage - MIN_COVERAGE) / (0.9 - MIN_COVERAGE) * 0.5 + 0.5)
    regular = min(1.0, (f.regular - MIN_REGULAR) / (1 - MIN_REGULAR) * 0.5 + 0.5)
    return round(float(count * coverage * regular), 3)


def _smoothed(points: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing along a closed contour (takes the pixel staircase off)."""
    r = int(3 * sigma) + 1
    kernel = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    wrapped = np.concatenate([points[-r:], points, points[:r]])
    return np.stack([np.convolve(wrapped[:, i], kernel, mode="valid") for i in range(2)], axis=1)


def _resampled(points: np.ndarray, flags: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """The closed contour at even `step` spacing along its length, with the flag of the nearest point."""
    closed = np.vstack([points, points[:1]])
    seg = np.hypot(*np.diff(closed, axis=0).T)
    at = np.concatenate([[0.0], np.cumsum(seg)])
    samples = np.arange(0.0, at[-1], step)
    nearest = np.minimum(np.searchsorted(at, samples + step / 2) - 1, len(points) - 1)
    return np.stack([np.interp(samples, at, closed[:, i]) for i in range(2)], axis=1), flags[nearest]


def _signed_area(path: np.ndarray) -> float:
    x, y = path[:, 0], path[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _concave_depth(path: np.ndarray, m: int, orientation: float) -> np.ndarray:
    """Distance of each point inward from the chord joining its neighbours m steps away (negative where
    the contour is convex)."""
    before, after = np.roll(path, m, axis=0), np.roll(path, -m, axis=0)
    chord = after - before
    rel = path - before
    cross = chord[:, 0] * rel[:, 1] - chord[:, 1] * rel[:, 0]
    return orientation * cross / np.maximum(np.hypot(chord[:, 0], chord[:, 1]), 1e-9)


def _local_maxima(values: np.ndarray, m: int, floor: float) -> np.ndarray:
    """Indices of circular local maxima at least `floor`, at least m apart."""
    values = values.astype(np.float32)  # compared with the dilation's float32 result
    wrapped = np.concatenate([values[-m:], values, values[:m]])
    peak = cv2.dilate(wrapped.reshape(1, -1), np.ones((1, 2 * m + 1), np.uint8)).ravel()[m:-m]
    candidates = np.nonzero((values >= floor) & (values >= peak))[0]
    kept: list[int] = []
    for i in candidates:  # a flat top gives several equal maxima side by side: keep the first
        if not kept or i - kept[-1] > m:
            kept.append(int(i))
    if len(kept) > 1 and kept[0] + len(values) - kept[-1] <= m:
        kept.pop()
    return np.array(kept, int)


def _arcs_between(path: np.ndarray, on_ink: np.ndarray, cusps: np.ndarray, orientation: float,
                  ppt: float) -> tuple[np.ndarray, ...]:
    """The runs between cusps: their starts (the cusps kept), chords (px), bulges (sagitta / chord),
    lengths (samples), and whether each is an outward arc of ink. A cusp that does not sit below the
    line joining the tops of the runs beside it is noise on one arc: the two runs are measured as one."""
    for _ in range(2):  # a merge changes its neighbours' tops: look once more
        chord, sag_out, _sag_in, top = _runs(path, cusps, orientation)
        rise = _inward_of(path[np.roll(top, 1)], path[top], path[cusps], orientation)
        keep = rise >= CUSP_MIN_RISE * np.minimum(np.roll(chord, 1), chord)
        if keep.all() or keep.sum() < 3:
            break
        cusps = cusps[keep]
    chord, sag_out, sag_in, _top = _runs(path, cusps, orientation)
    length = np.diff(np.append(cusps, cusps[0] + len(path)))
    # Across a bridged gap the outline is the bridging's own edge, which has arcs of its own.
    inked = np.add.reduceat(np.roll(on_ink, -cusps[0]).astype(np.int32), cusps - cusps[0]) / length
    bulge = sag_out / np.maximum(chord, 1e-9)
    arc = ((chord >= ARC_CHORD_PT[0] * ppt) & (chord <= ARC_CHORD_PT[1] * ppt)
           & (bulge >= ARC_MIN_BULGE) & (bulge <= ARC_MAX_BULGE) & (sag_out >= ARC_MIN_SAG_PX)
           & (sag_in <= ARC_MAX_SAG_IN * chord + 1.0) & (length <= ARC_MAX_LENGTH * chord)
           & (inked >= ARC_MIN_INKED) & _curved(path, cusps, length, sag_out, orientation))
    return cusps, chord, bulge, length, arc


def _curved(path: np.ndarray, cusps: np.ndarray, length: np.ndarray, sag_out: np.ndarray,
            orientation: float) -> np.ndarray:
    """Whether each run bends all along, as an arc does, rather than running flat between two dips: a
    quarter of the way in from either end, an arc stands 0.75 (a shallow one) to 0.87 (a semicircle)
    of its full height above its chord; a dash between two gaps, or a straight side notched by the
    bridging of its gaps, stands at its full height there already (0.99 measured, at one end or both)."""
    n = len(path)
    p, q = path[cusps], path[(cusps + length) % n]
    heights = []
    for fraction in (0.25, 0.75):
        points = path[(cusps + np.round(fraction * length).astype(int)) % n]
        heights.append(-_inward_of(p, q, points, orientation))
    return np.maximum(heights[0], heights[1]) <= ARC_MAX_SHOULDER * sag_out


def _runs(path: np.ndarray, cusps: np.ndarray, orientation: float) -> tuple[np.ndarray, ...]:
    """For each run from one cusp to the next (cusps ascending): chord (px), outward and inward sagitta
    (px), and the index of its outermost point."""
    n = len(path)
    first = cusps[0]
    starts = cusps - first  # the path rotated to start at the first cusp, so no run wraps
    turned = np.roll(path, -first, axis=0)
    ends = np.append(starts[1:], n)
    closed = np.vstack([turned, turned[:1]])
    run_of = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
    p, q = closed[starts][run_of], closed[ends][run_of]
    d = q - p
    chord = np.hypot(d[:, 0], d[:, 1])
    rel = turned - p
    outward = -orientation * (d[:, 0] * rel[:, 1] - d[:, 1] * rel[:, 0]) / np.maximum(chord, 1e-9)
    sag_out = np.maximum.reduceat(outward, starts)
    sag_in = np.maximum(0.0, -np.minimum.reduceat(outward, starts))
    top = (np.lexsort((-outward, run_of))[starts] + first) % n
    run_chord = np.hypot(*(closed[ends] - closed[starts]).T)
    return run_chord, sag_out, sag_in, top


def _inward_of(p: np.ndarray, q: np.ndarray, points: np.ndarray, orientation: float) -> np.ndarray:
    """How far each point lies inward of the line p -> q (px; rows of p, q and points go together)."""
    d = q - p
    rel = points - p
    cross = d[:, 0] * rel[:, 1] - d[:, 1] * rel[:, 0]
    return orientation * cross / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)
