"""Words checked one by one, where the page-wide ink diff cannot see them change.

On a scan the diff needs a tolerance wide enough for the scan's residual warp, wide enough to hide a digit
changed inside a word (both sides of the 0 in "140" lie within it of the 1 in "141"): each word of the
other page's text layer is registered on its own and compared with one pixel of tolerance
(`changed_words`). Between two text layers, a word that is on one page and not at the same place on the
other is a retyped word (`retyped_words`, after `unmatched_words`): a digit changed in 4 pt text moves
fewer pixels than the diff's smallest region, but the text layer says it changed, and a few pixels of
ink confirm it is visible.
"""
from __future__ import annotations

from collections import defaultdict

import cv2
import numpy as np

from buildtrace_desktop.processing.regions import Region
from buildtrace_desktop.processing.types import Word

WORD_SEARCH_PT = 1.5  # how far a word may sit from where the page-wide alignment puts it (residual warp)
WORD_DARK, WORD_LOOSE = 110, 200  # a word's dark strokes must be explained by any ink on the other side
# An unchanged word correlates 0.84-0.95 with its scan (5th-50th percentile over the words of two unchanged
# scanned sets); a changed one 0.1-0.4.
WORD_SAME_CORRELATION = 0.6
SMALL_TEXT_CHANGED_PX = 9  # changed pixels of a word in all, at 150 dpi


def changed_words(old: np.ndarray, new: np.ndarray, word_boxes_px, dpi: float) -> list[Region]:
    """Regions for the words whose ink changed, each word registered on its own.

    A scan needs a wide tolerance for its residual warp, wide enough to hide a digit changed inside a
    word: in "140" -> "141" both sides of the 0 lie within it of the 1. Registered word by word (a search
    of a few pixels), a word needs a tolerance of one pixel. A changed stroke leaves a blob of a few dozen
    pixels; an unchanged word on the corpus scans leaves at most 3 (measured at 150 dpi)."""
    px_per_pt = dpi / 72.0
    search = max(1, round(WORD_SEARCH_PT * px_per_pt))
    margin = 3  # the masks see their neighbours' ink, so a line cut by the word's box is no change
    min_stroke_px = max(4, round(2 * px_per_pt ** 2))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    h, w = new.shape
    reach = search + margin
    regions = []
    for box in word_boxes_px:
        x0, y0 = int(np.floor(box[0])), int(np.floor(box[1]))
        x1, y1 = int(np.ceil(box[2])), int(np.ceil(box[3]))
        if x0 < reach or y0 < reach or x1 + reach > w or y1 + reach > h or x1 - x0 < 3 or y1 - y0 < 3:
            continue
        old_word = old[y0:y1, x0:x1]
        if old_word.min() >= WORD_DARK and new[y0:y1, x0:x1].min() >= WORD_DARK:
            continue  # no dark ink on either side: nothing a reader would see change
        around = new[y0 - search:y1 + search, x0 - search:x1 + search]
        shifts = [(0, 0)]  # flat on one side: nothing to register by
        if old_word.std() >= 1 and around.std() >= 1:
            _, best, _, (bx, by) = cv2.minMaxLoc(cv2.matchTemplate(around, old_word, cv2.TM_CCOEFF_NORMED))
            # A word that looks like itself nowhere near changed: the best shift may lay an old stroke on
            # a new one ("14" -> "22") and hide it, so the page's own alignment is tried too.
            shifts = [(bx - search, by - search)] + ([(0, 0)] if best < WORD_SAME_CORRELATION else [])
        # In text under 8 pt a changed digit's strokes break into pieces of a few pixels on a scan: there
        # the changed pixels together count (an unchanged word leaves 0-3 of them).
        found = max((_changed_strokes(old, new, (x0, y0, x1, y1), shift, margin, kernel) for shift in shifts),
                    key=lambda f: (f[0] >= min_stroke_px or f[4] >= SMALL_TEXT_CHANGED_PX, f[0], f[4]))
        if found[0] >= min_stroke_px or found[4] >= SMALL_TEXT_CHANGED_PX:
            (bx, by, bw, bh), n_added, n_removed, _total = found[1:]
            regions.append(Region((x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bh), n_added, n_removed))
    return regions


def _changed_strokes(old: np.ndarray, new: np.ndarray, box: tuple[int, int, int, int], shift: tuple[int, int],
                     margin: int, kernel: np.ndarray) -> tuple[int, tuple[int, int, int, int], int, int, int]:
    """The word's changed strokes with the new image moved by `shift`: (the largest blob's pixels, the
    box of all changed pixels within the word, added pixels, removed pixels, all changed pixels). The box says where in the
    word its ink changed: a long word crossed by new text changes in a few strokes, and its whole box
    would join the neighbouring words into one region."""
    x0, y0, x1, y1 = box
    dx, dy = shift
    o = old[y0 - margin:y1 + margin, x0 - margin:x1 + margin]
    n = new[y0 + dy - margin:y1 + dy + margin, x0 + dx - margin:x1 + dx + margin]
    inner = (slice(margin, -margin), slice(margin, -margin))
    removed = (_ink(o, WORD_DARK) & (1 - cv2.dilate(_ink(n, WORD_LOOSE), kernel)))[inner]
    added = (_ink(n, WORD_DARK) & (1 - cv2.dilate(_ink(o, WORD_LOOSE), kernel)))[inner]
    n_added, n_removed = int(cv2.countNonZero(added)), int(cv2.countNonZero(removed))
    return (max(_largest_blob(removed), _largest_blob(added)), cv2.boundingRect(removed | added), n_added, n_removed,
            n_added + n_removed)


def _largest_blob(mask: np.ndarray) -> int:
    if not cv2.countNonZero(mask):
        return 0
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return int(stats[1:, cv2.CC_STAT_AREA].max())


RETYPED_MIN_PX = 3  # ink pixels a retyped word must change to be seen (antialiasing differs by 1-2)
SAME_PLACE_PT = 1.5  # a word this close to where the other page has the same word has not moved


def unmatched_words(old_words: list[Word], new_words: list[Word]) -> tuple[list[Word], list[Word]]:
    """(old words, new words) that the other page does not have at the same place (old words already
    mapped into new-page points)."""
    def centre(w: Word) -> tuple[float, float]:
        return (w.box[0] + w.box[2]) / 2, (w.box[1] + w.box[3]) / 2

    def lonely(words: list[Word], others: list[Word]) -> list[Word]:
        by_text: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for w in others:
            by_text[w.text].append(centre(w))
        # Most words sit exactly where the other page has them: one set lookup each, not a search.
        exact = {(w.text, round(w.box[0], 1), round(w.box[1], 1)) for w in others}
        out = []
        for w in words:
            if (w.text, round(w.box[0], 1), round(w.box[1], 1)) in exact:
                continue
            cx, cy = centre(w)
            reach = max(SAME_PLACE_PT, 0.35 * (w.box[3] - w.box[1]))
            if not any(abs(cx - x) <= reach and abs(cy - y) <= reach for x, y in by_text.get(w.text, ())):
                out.append(w)
        return out

    return lonely(old_words, new_words), lonely(new_words, old_words)


def retyped_words(old: np.ndarray, new: np.ndarray, word_boxes_px, dpi: float) -> list[Region]:
    """Regions for the boxes (new-image pixels) of words one text layer has and the other has not at
    that place, where the rendered ink differs too: dark strokes of one side with no ink of the other
    within a pixel."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    h, w = new.shape
    regions = []
    for box in word_boxes_px:
        x0, y0 = max(0, int(np.floor(box[0])) - 1), max(0, int(np.floor(box[1])) - 1)
        x1, y1 = min(w, int(np.ceil(box[2])) + 1), min(h, int(np.ceil(box[3])) + 1)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        o, n = old[y0:y1, x0:x1], new[y0:y1, x0:x1]
        removed = _ink(o, WORD_DARK) & (1 - cv2.dilate(_ink(n, WORD_LOOSE), kernel))
        added = _ink(n, WORD_DARK) & (1 - cv2.dilate(_ink(o, WORD_LOOSE), kernel))
        na, nr = int(cv2.countNonZero(added)), int(cv2.countNonZero(removed))
        if na + nr >= RETYPED_MIN_PX:
            regions.append(Region((x0, y0, x1, y1), na, nr))
    return regions


def _ink(img: np.ndarray, level: int) -> np.ndarray:
    """0/1 mask of gray < level."""
    return cv2.threshold(img, level - 1, 1, cv2.THRESH_BINARY_INV)[1]


