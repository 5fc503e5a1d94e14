"""Align the old page to the new one: the transform from OLD page points to NEW page points.

Cheapest first. Most CAD re-plots share a frame, so identity is checked first. When both pages have a
text layer, words that occur once on each page pin the transform to a fraction of a point. Otherwise
(scans) features are matched on a downscaled copy and refined by ECC. Every transform carries a
confidence measured the same way: how much of the new page's ink the warped old ink explains.
"""
from __future__ import annotations

from collections import Counter

import cv2
import numpy as np

from buildtrace_desktop.processing.documents import OpenPage
from buildtrace_desktop.processing.imaging import shrink
from buildtrace_desktop.processing.types import Alignment

INK = 200  # gray below this is ink
COARSE_WIDTH = 1600  # pixels: alignment is estimated on a copy about this wide
TEXT_MIN_PAIRS = 12
# The in-frame check correlates copies half the coarse size (four times cheaper): a tenth of a pixel
# there is still under a tenth of a point at 150 dpi (a quarter size misjudged sparse sheets).
IN_FRAME_REDUCE = 2
SAME_SCORE = 0.01  # coarse scores this close cannot tell a move of a point or two from none


def align_pages(
    old_page: OpenPage,
    new_page: OpenPage,
    new_img: np.ndarray,
    dpi: float,
) -> tuple[Alignment, np.ndarray]:
    """Return the alignment (old points -> new points) and the old page rendered into the new image's
    pixel frame through it."""
    shape = new_img.shape
    same_size = abs(old_page.size[0] - new_page.size[0]) < 0.5 and abs(old_page.size[1] - new_page.size[1]) < 0.5
    old_img = old_page.render_gray(dpi) if same_size else old_page.render_gray_transformed(_identity(), dpi, shape)
    coarse = Coarse(old_img, new_img)
    best, best_score, method = _identity(), coarse.score(_identity(), dpi), "identity"
    both_text = old_page.has_text and new_page.has_text
    words_in_frame = both_text and _words_in_frame(old_page, new_page)
    if both_text and (best_score < 0.98 or not words_in_frame):
        text_matrix = estimate_from_text(old_page, new_page)
        if text_matrix is not None:
            score = coarse.score(text_matrix, dpi)
            # At the coarse scale a re-plot moved by a point or two scores as well as one not moved, and
            # at full scale every line of it would be a change: the words measure the move.
            if score > best_score or (score >= best_score - SAME_SCORE and not _is_identity(text_matrix)):
                best, best_score, method = text_matrix, score, "text"
    # A scan is never in the page's own frame, however well the frame seems to fit at coarse scale (a
    # sparse sheet scores 0.9 unmoved): its features always get their say.
    scanned = old_page.is_scan or new_page.is_scan
    # Two renders in one frame (a revised CAD sheet whose own changes lower the score) need no search:
    # their words say so, or the phase correlation of the coarse images in milliseconds, where features
    # and ECC take seconds on a sparse sheet.
    in_frame = method == "identity" and not scanned and words_in_frame
    if method == "identity" and not scanned and not words_in_frame:
        shift = pixels_to_points(_phase_shift(coarse, IN_FRAME_REDUCE), dpi / coarse.factor)
        in_frame = _is_identity(shift, tol_pt=0.25)
        shift_score = coarse.score(shift, dpi) if not in_frame and best_score >= 0.9 else 0.0
        if shift_score >= best_score - SAME_SCORE:
            best, best_score, method = shift, max(best_score, shift_score), "phase"
    if (best_score < 0.9 and not in_frame and method == "identity") or scanned:
        image_matrix = estimate_from_images(coarse, dpi)
        if image_matrix is not None:
            score = coarse.score(image_matrix, dpi)
            if score > best_score + 0.02:
                best, best_score, method = image_matrix, score, "features"
    if method != "identity" and _is_identity(best):
        method = "identity"
    if method == "identity":
        best = _identity()
        aligned = old_img
    else:
        aligned = old_page.render_gray_transformed(best, dpi, shape)
        if method in ("features", "phase"):
            # The coarse estimate is good to a few full-resolution pixels; scans need better than that.
            correction = refine_locally(aligned, new_img)
            if correction is not None:
                best = _compose(pixels_to_points(correction, dpi), best)
                aligned = old_page.render_gray_transformed(best, dpi, shape)
                best_score = max(best_score, coarse.score(best, dpi))
    matrix = [[float(v) for v in row] for row in best]
    return Alignment(matrix, round(float(best_score), 4), method), aligned


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The affine `outer` after `inner` (2 x 3 each)."""
    return (np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]]))[:2]


PATCH = 768  # pixels: local shifts are measured on patches this size


def refine_locally(aligned: np.ndarray, new_img: np.ndarray) -> np.ndarray | None:
    """A pixel-frame affine correction from the local shifts between the two images, measured by phase
    correlation on a grid of patches and fitted by least squares. None when too few patches agree."""
    h, w = new_img.shape
    rows, cols = max(2, h // (PATCH * 2)), max(2, w // (PATCH * 2))
    src, dst = [], []
    window = cv2.createHanningWindow((PATCH, PATCH), cv2.CV_32F)
    for r in range(rows):
        for c in range(cols):
            cy = int((r + 0.5) * h / rows)
            cx = int((c + 0.5) * w / cols)
            y0, x0 = max(0, cy - PATCH // 2), max(0, cx - PATCH // 2)
            a = aligned[y0:y0 + PATCH, x0:x0 + PATCH]
            b = new_img[y0:y0 + PATCH, x0:x0 + PATCH]
            if a.shape != (PATCH, PATCH) or b.shape != (PATCH, PATCH):
                continue
            if (a < INK).mean() < 0.01 or (b < INK).mean() < 0.01:
                continue  # blank paper has nothing to measure
            fa = cv2.GaussianBlur(255 - a, (0, 0), 1.0).astype(np.float32)
            fb = cv2.GaussianBlur(255 - b, (0, 0), 1.0).astype(np.float32)
            (dx, dy), response = cv2.phaseCorrelate(fa, fb, window)
            if response < 0.1 or abs(dx) > PATCH / 8 or abs(dy) > PATCH / 8:
                continue
            centre = (x0 + PATCH / 2 - 0.5, y0 + PATCH / 2 - 0.5)
            src.append(centre)
            dst.append((centre[0] + dx, centre[1] + dy))
    if len(src) < 4:
        return None
    matrix, inliers = cv2.estimateAffine2D(np.float32(src), np.float32(dst), method=cv2.RANSAC,
                                           ransacReprojThreshold=1.5)
    if matrix is None or inliers is None or int(inliers.sum()) < 4:
        return None
    return matrix.astype(float)


def valid_mask(old_size: tuple[float, float], m_pt, dpi: float, shape: tuple[int, int], margin_px: int) -> np.ndarray | None:
    """Where the old page lands on the new canvas (shrunk by a margin), or None when it covers it all.

    Ink outside it was cut off by the old page's edge, not added by the revision."""
    s = dpi / 72.0
    w, h = old_size
    corners = np.array([apply(m_pt, x, y) for x, y in ((0, 0), (w, 0), (w, h), (0, h))]) * s
    if corners[:, 0].min() <= 0 and corners[:, 1].min() <= 0 and corners[:, 0].max() >= shape[1] \
            and corners[:, 1].max() >= shape[0]:
        return None
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(corners).astype(np.int32), 1)
    if margin_px > 0:
        mask = cv2.erode(mask, np.ones((2 * margin_px + 1, 2 * margin_px + 1), np.uint8))
    return mask


def _identity() -> np.ndarray:
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _is_identity(m: np.ndarray, tol_pt: float = 0.25) -> bool:
    return bool(np.abs(m[:, :2] - np.eye(2)).max() < 1e-4 and np.abs(m[:, 2]).max() < tol_pt)


def _pixel_frame(dpi: float) -> tuple[np.ndarray, np.ndarray]:
    """Points -> pixel indices at `dpi` and back, as 3 x 3 matrices (pixel centres at i + 0.5)."""
    s = dpi / 72.0
    to_pixels = np.array([[s, 0, -0.5], [0, s, -0.5], [0, 0, 1]])
    return to_pixels, np.linalg.inv(to_pixels)


def points_to_pixels(m_pt: np.ndarray, dpi: float) -> np.ndarray:
    """A points->points matrix as a pixel-index->pixel-index matrix at `dpi`."""
    to_pixels, to_points = _pixel_frame(dpi)
    return (to_pixels @ np.vstack([m_pt, [0, 0, 1]]) @ to_points)[:2]


def pixels_to_points(m_px: np.ndarray, dpi: float) -> np.ndarray:
    to_pixels, to_points = _pixel_frame(dpi)
    return (to_points @ np.vstack([m_px, [0, 0, 1]]) @ to_pixels)[:2]


def invert(m: list[list[float]] | np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(np.asarray(m, float))


def apply(m: list[list[float]] | np.ndarray, x: float, y: float) -> tuple[float, float]:
    a = np.asarray(m, float)
    return float(a[0, 0] * x + a[0, 1] * y + a[0, 2]), float(a[1, 0] * x + a[1, 1] * y + a[1, 2])


# --- text-layer alignment ---------------------------------------------------------------------------


def estimate_from_text(old_page: OpenPage, new_page: OpenPage) -> np.ndarray | None:
    """Similarity transform from words that occur exactly once on each page (RANSAC on their centres)."""
    old_words, new_words = old_page.words(), new_page.words()
    old_unique = _unique_words(old_words)
    new_unique = _unique_words(new_words)
    common = [t for t in old_unique if t in new_unique]
    if len(common) < TEXT_MIN_PAIRS:
        return None
    src = np.array([old_unique[t] for t in common], np.float32)
    dst = np.array([new_unique[t] for t in common], np.float32)
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0,
                                                  maxIters=4000, confidence=0.999)
    if matrix is None or inliers is None or int(inliers.sum()) < TEXT_MIN_PAIRS:
        return None
    keep = inliers.ravel().astype(bool)
    if keep.mean() < 0.3:
        return None
    # Refit on the inliers with least squares for a sub-point estimate.
    refined, _ = cv2.estimateAffinePartial2D(src[keep], dst[keep], method=cv2.LMEDS)
    return (refined if refined is not None else matrix).astype(float)


IN_FRAME_WORDS = 3  # words where the other page has them, at least, and
IN_FRAME_SHARE = 0.75  # of the words whose text the other page has: one frame


def _words_in_frame(old_page: OpenPage, new_page: OpenPage) -> bool:
    """Whether two text layers are in one frame: most words whose text the other page has too sit within
    a quarter point of a place where it has it (a retyped note moves the rest of its line; a re-plot
    moves every word). Cheaper than correlating the images."""
    if not (old_page.has_text and new_page.has_text):
        return False
    texts = set()
    cells: dict[tuple[str, int, int], list[tuple[float, float]]] = {}  # half-point cells: O(1) a word
    for w in new_page.words():
        texts.add(w.text)
        cells.setdefault((w.text, int(w.box[0] // 0.5), int(w.box[1] // 0.5)), []).append((w.box[0], w.box[1]))
    shared = in_place = 0
    for w in old_page.words():
        if w.text not in texts:
            continue
        shared += 1
        cx, cy = int(w.box[0] // 0.5), int(w.box[1] // 0.5)
        in_place += any(abs(x - w.box[0]) <= 0.25 and abs(y - w.box[1]) <= 0.25
                        for i in (-1, 0, 1) for j in (-1, 0, 1) for x, y in cells.get((w.text, cx + i, cy + j), ()))
    return in_place >= IN_FRAME_WORDS and in_place >= IN_FRAME_SHARE * shared


def _unique_words(words) -> dict[str, tuple[float, float]]:
    counts = Counter(w.text for w in words)
    out = {}
    for w in words:
        # Short tokens ("1", "A") repeat across pages and mislead; long unique ones pin the frame.
        if counts[w.text] == 1 and len(w.text) >= 3:
            out[w.text] = ((w.box[0] + w.box[2]) / 2, (w.box[1] + w.box[3]) / 2)
    return out


# --- image alignment ------------------------------------------------------------------------------


class Coarse:
    """Downscaled ink images of a pair, for cheap scoring and feature matching."""

    def __init__(self, old_img: np.ndarray, new_img: np.ndarray) -> None:
        # An integer factor: OpenCV's area resize is four times faster at exact integer scales.
        self.factor = max(1, round(max(new_img.shape[1], old_img.shape[1]) / COARSE_WIDTH))
        self.old = shrink(old_img, self.factor)
        self.new = shrink(new_img, self.factor)
        self.new_ink = self.new < INK
        self.new_count = max(1, int(self.new_ink.sum()))
        self.new_ink_grown = cv2.dilate(self.new_ink.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0

    def score(self, m_pt: np.ndarray, dpi: float) -> float:
        """F1 of ink agreement after warping old by `m_pt`, with one coarse pixel of tolerance."""
        coarse_dpi = dpi / self.factor
        warped = cv2.warpAffine(self.old, points_to_pixels(m_pt, coarse_dpi), (self.new.shape[1], self.new.shape[0]),
                                flags=cv2.INTER_AREA, borderValue=255)
        old_ink = warped < INK
        old_count = int(old_ink.sum())
        if old_count == 0:
            return 0.0
        old_grown = cv2.dilate(old_ink.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        recall = float(np.logical_and(self.new_ink, old_grown).sum()) / self.new_count
        precision = float(np.logical_and(old_ink, self.new_ink_grown).sum()) / old_count
        return 2 * recall * precision / max(1e-9, recall + precision)


def estimate_from_images(coarse: Coarse, dpi: float) -> np.ndarray | None:
    """Similarity from ORB features on the coarse images, refined by ECC. Returns points->points."""
    orb = cv2.ORB_create(nfeatures=6000, scaleFactor=1.2, nlevels=8, fastThreshold=10)
    kp_old, des_old = orb.detectAndCompute(coarse.old, None)
    kp_new, des_new = orb.detectAndCompute(coarse.new, None)
    coarse_dpi = dpi / coarse.factor
    m_px = None
    if des_old is not None and des_new is not None and len(kp_old) >= 10 and len(kp_new) >= 10:
        matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        pairs = matcher.knnMatch(des_old, des_new, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
        if len(good) >= 10:
            src = np.float32([kp_old[g.queryIdx].pt for g in good])
            dst = np.float32([kp_new[g.trainIdx].pt for g in good])
            m_px, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0,
                                                        maxIters=5000, confidence=0.999)
            if inliers is None or int(inliers.sum()) < 10:
                m_px = None
    if m_px is None:
        m_px = _phase_shift(coarse)
    refined = _refine_ecc(coarse, m_px)
    return pixels_to_points(refined if refined is not None else m_px, coarse_dpi)


def _phase_shift(coarse: Coarse, reduce: int = 1) -> np.ndarray:
    """The shift of new against old, in coarse pixels, by phase correlation (sub-pixel), measured on
    copies `reduce` times smaller (cheaper by its square), padded to sizes the DFT is fast at."""
    old, new = (shrink(coarse.old, reduce), shrink(coarse.new, reduce)) if reduce > 1 else (coarse.old, coarse.new)
    h, w = min(old.shape[0], new.shape[0]), min(old.shape[1], new.shape[1])
    size = (cv2.getOptimalDFTSize(h), cv2.getOptimalDFTSize(w))
    a, b = np.zeros(size, np.float32), np.zeros(size, np.float32)
    a[:h, :w] = 255 - old[:h, :w]
    b[:h, :w] = 255 - new[:h, :w]
    (dx, dy), _resp = cv2.phaseCorrelate(a, b)
    return np.array([[1.0, 0.0, reduce * dx], [0.0, 1.0, reduce * dy]])


ECC_REDUCE = 2  # ECC runs on copies this much smaller than the coarse images (refine_locally finishes)


def _refine_ecc(coarse: Coarse, m_px: np.ndarray) -> np.ndarray | None:
    """ECC on blurred ink (lines are thin; blur widens the basin of attraction), on copies ECC_REDUCE
    times smaller than the coarse images: a quarter of the work, and the local refinement at full
    resolution that follows measures what a coarser estimate leaves (a coarse pixel is 4-8 of those)."""
    k = ECC_REDUCE
    old = cv2.GaussianBlur(255 - shrink(coarse.old, k), (0, 0), 1.5 / k).astype(np.float32)
    new = cv2.GaussianBlur(255 - shrink(coarse.new, k), (0, 0), 1.5 / k).astype(np.float32)
    m_px = _rescaled(m_px, 1.0 / k)
    if old.shape != new.shape:
        padded = np.zeros_like(new)
        h, w = min(old.shape[0], new.shape[0]), min(old.shape[1], new.shape[1])
        padded[:h, :w] = old[:h, :w]
        old = padded
    # findTransformECC maps template (new) coords to input (old) coords: invert ours going in and out.
    warp = cv2.invertAffineTransform(m_px.astype(np.float64)).astype(np.float32)
    try:
        _cc, warp = cv2.findTransformECC(new, old, warp, cv2.MOTION_AFFINE,
                                         (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5), None, 5)
    except cv2.error:
        return None
    return _rescaled(cv2.invertAffineTransform(warp.astype(np.float64)), float(k))


def _rescaled(m_px: np.ndarray, scale: float) -> np.ndarray:
    """A pixel-frame affine of one image size as the same transform for images `scale` times larger
    (pixel centres at half-integers)."""
    to_big = np.array([[scale, 0.0, 0.5 * scale - 0.5], [0.0, scale, 0.5 * scale - 0.5], [0.0, 0.0, 1.0]])
    return (to_big @ np.vstack([m_px, [0, 0, 1]]) @ np.linalg.inv(to_big))[:2]
