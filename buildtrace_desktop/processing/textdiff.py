"""The words each change removed and added: old words versus new words inside the change's box.

Words come from the text layer where a page has one, from Tesseract on a crop otherwise. The old page's
words are mapped into new-page points through the alignment first.
"""
from __future__ import annotations

import time
from collections import Counter
from difflib import SequenceMatcher

import numpy as np

from buildtrace_desktop.errors import ExternalToolError
from buildtrace_desktop.processing import align, ocr
from buildtrace_desktop.processing.documents import OpenPage
from buildtrace_desktop.processing.numbers import skeleton
from buildtrace_desktop.processing.types import Alignment, Box, Change, CompareSettings, Word
from buildtrace_desktop.processing.what import is_value

MARGIN_PT = 2.0  # a word whose box reaches into the change by this much belongs to it
OCR_MAX_AREA_PT2 = 400.0 * 400.0  # larger changes are line work or whole areas: reading them costs minutes
OCR_BUDGET_S = 60.0  # per sheet pair; the rest of its changes go without OCR text
OCR_DPI = 300.0  # Tesseract reads small drawing text far better at 300 dpi than at 150
OCR_PAD_PT = 6.0
LINE_PAD_PT = 3.0  # around one word read as a line: room for its strokes, not for its neighbours


def attach_text(
    changes: list[Change],
    old_page: OpenPage,
    new_page: OpenPage,
    alignment: Alignment,
    new_img: np.ndarray,
    dpi: float,
    settings: CompareSettings,
) -> str:
    """Fill text_removed / text_added of every change. Returns the text source used."""
    if not changes:
        return "none"
    sources = set()
    budget = _OcrBudget(OCR_BUDGET_S)
    old_words = mapped_words(old_page.words(), alignment.matrix) if old_page.has_text else None
    new_words = new_page.words() if new_page.has_text else None
    for change in changes:
        if change.what.startswith("revision cloud"):
            continue  # what a cloud encloses is read by the changes inside it; its tag is read apart
        box = _grow(change.bbox, MARGIN_PT)
        if old_words is not None:
            before = _words_in(old_words, box)
            sources.add("text")
        elif settings.ocr and budget.allows(box):
            inverse = align.invert(alignment.matrix)
            before = mapped_words(budget.read(old_page, _map_box(box, inverse)), alignment.matrix)
            before = _words_in(before, box)
            sources.add("ocr")
        else:
            before = []
        if new_words is not None:
            after = _words_in(new_words, box)
            sources.add("text")
        elif settings.ocr and budget.allows(box):
            after = _words_in(budget.read(new_page, box), box)
            sources.add("ocr")
        else:
            after = []
        fuzzy = "ocr" in sources
        change.text_removed, change.text_added = word_diff([w.text for w in before], [w.text for w in after], fuzzy)
        if new_words is None and old_words is not None and change.text_removed and settings.ocr:
            _read_values_again(change, before, new_page, budget)
        if change.text_removed and change.text_added:
            if not fuzzy or _comparable(change):
                change.kind = "modified"  # words replaced: a changed dimension or note, whatever the ink says
            elif change.kind == "removed":
                change.text_added = []  # OCR read a scrap where the ink says words went
    return "mixed" if len(sources) > 1 else (sources.pop() if sources else "none")


VALUE_CHARACTERS = "0123456789'\"-/.,x"  # what a dimension or a value is written with


def _read_values_again(change: Change, before: list[Word], new_page: OpenPage, budget: _OcrBudget) -> None:
    """A value the old text layer has (a dimension, "1-132") that OCR did not find on the scan is read
    again where the old word was, as one line of digits and marks only: read among line work at large,
    Tesseract takes a changed "9/4\"" for nothing or for letters. The same value read there means the
    word is unchanged; another value is the new one."""
    for word in [w for w in before if w.text in change.text_removed and is_value(w.text)]:
        if not budget.allows(word.box):
            return
        read = budget.read_line(new_page, word.box, VALUE_CHARACTERS)
        if not read:
            continue
        if skeleton(read) == skeleton(word.text):
            change.text_removed.remove(word.text)
        elif read not in change.text_added:
            change.text_added.append(read)


class _OcrBudget:
    """Tesseract for change boxes, within a time budget: big boxes are skipped, and a failed or slow
    read leaves that change without text rather than failing the sheet."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def allows(self, box: Box) -> bool:
        area = (box[2] - box[0]) * (box[3] - box[1])
        return area <= OCR_MAX_AREA_PT2 and time.monotonic() < self.deadline

    def read(self, page: OpenPage, box: Box) -> list[Word]:
        try:
            return _ocr_box(page, box, pad=OCR_PAD_PT)
        except ExternalToolError:
            return []

    def read_line(self, page: OpenPage, box: Box, characters: str) -> str:
        """One line of text in `box` (points, padded a little), of `characters` only."""
        width, height = page.size
        pad = LINE_PAD_PT
        clip = (max(0.0, box[0] - pad), max(0.0, box[1] - pad), min(width, box[2] + pad), min(height, box[3] + pad))
        try:
            words = ocr.ocr_words(page.render_gray(OCR_DPI, clip), psm=7, min_conf=30, characters=characters)
        except ExternalToolError:
            return ""
        return "".join(w.text for w, _conf in words)


def word_diff(before: list[str], after: list[str], fuzzy: bool = False) -> tuple[list[str], list[str]]:
    """Words only in `before` (removed) and only in `after` (added), as multisets, in reading order.

    With `fuzzy` (one side read by OCR), a word that nearly matches one on the other side (one slip in
    four letters) counts as unchanged, so OCR noise does not show up as edits.
    """
    left = Counter(before)
    right = Counter(after)
    common = left & right
    removed = _subtract(before, common)
    added = _subtract(after, common)
    if fuzzy and removed and added:
        removed, added = _drop_near_matches(removed, added)
    return removed, added


def _subtract(words: list[str], common: Counter) -> list[str]:
    left = Counter(common)
    out = []
    for w in words:
        if left[w] > 0:
            left[w] -= 1
        else:
            out.append(w)
    return out


def _drop_near_matches(removed: list[str], added: list[str]) -> tuple[list[str], list[str]]:
    added = list(added)
    kept_removed = []
    for r in removed:
        match = next((a for a in added if _ocr_slip(r, a)), None)
        if match is None:
            kept_removed.append(r)
        else:
            added.remove(match)
    return kept_removed, added


def _comparable(change: Change) -> bool:
    """Whether OCR's added words can stand for the removed ones: a character read where a line of
    text was removed is debris, not a replacement."""
    removed, added = sum(map(len, change.text_removed)), sum(map(len, change.text_added))
    return added >= 0.3 * removed


def _ocr_slip(a: str, b: str) -> bool:
    """Whether two readings of a word differ only as OCR slips: the same once confusable characters
    (O/0, I/1, S/5 ...) and marks are merged; or, for a long word of letters, one slip in five. A digit
    that differs is a changed value ("1-132" -> "8-132"), never a slip."""
    if skeleton(a) == skeleton(b):
        return True
    digits = any(c.isdigit() for c in a + b)
    return not digits and len(a) >= 5 and _similar(a, b) >= 0.8


def _similar(a: str, b: str) -> float:
    return SequenceMatcher(None, a.upper(), b.upper()).ratio()


def _grow(b: Box, d: float) -> Box:
    return (b[0] - d, b[1] - d, b[2] + d, b[3] + d)


def _words_in(words: list[Word], box: Box) -> list[Word]:
    """Words that belong to a change box: a quarter of the word inside it, or half of the box inside the
    word (a change of one digit covers only part of its word). Unchanged neighbours caught this way
    appear on both sides and cancel out in the word diff."""
    out = []
    box_area = max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))
    for w in words:
        ix = max(0.0, min(w.box[2], box[2]) - max(w.box[0], box[0]))
        iy = max(0.0, min(w.box[3], box[3]) - max(w.box[1], box[1]))
        area = max(1e-6, (w.box[2] - w.box[0]) * (w.box[3] - w.box[1]))
        if ix * iy >= 0.25 * area or ix * iy >= 0.5 * box_area:
            out.append(w)
    out.sort(key=lambda w: (round(w.box[1] / 4), w.box[0]))  # reading order
    return out


def _map_box(box: Box, m) -> Box:
    corners = [align.apply(m, x, y) for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3]))]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return (min(xs), min(ys), max(xs), max(ys))


def mapped_words(words: list[Word], m) -> list[Word]:
    a = np.asarray(m, float)
    if np.allclose(a, [[1, 0, 0], [0, 1, 0]]):
        return words
    return [Word(_map_box(w.box, a), w.text) for w in words]


def _ocr_box(page: OpenPage, box: Box, pad: float) -> list[Word]:
    """OCR a region of a page; words in page points."""
    width, height = page.size
    clip = (max(0.0, box[0] - pad), max(0.0, box[1] - pad), min(width, box[2] + pad), min(height, box[3] + pad))
    if clip[2] - clip[0] < 2 or clip[3] - clip[1] < 2:
        return []
    gray = page.render_gray(OCR_DPI, clip)
    k = 72.0 / OCR_DPI
    words = []
    for w, conf in ocr.ocr_words(gray, psm=11, min_conf=40):
        if _looks_like_a_word(w.text, conf):
            words.append(Word((clip[0] + w.box[0] * k, clip[1] + w.box[1] * k, clip[0] + w.box[2] * k,
                               clip[1] + w.box[3] * k), w.text))
    return words


def _looks_like_a_word(text: str, conf: float) -> bool:
    """Tesseract reads line work as short words ("ay", "oh", "UL"): a reading of one or two characters
    counts only when read surely, and any reading must be mostly letters and digits."""
    alnum = sum(c.isalnum() for c in text)
    return alnum >= 0.6 * len(text) and (len(text) >= 3 or conf >= 75)


def tag_text(page: OpenPage, box: Box, alignment: Alignment | None, settings: CompareSettings) -> str | None:
    """The text inside a revision cloud's tag (a delta's "3", a hexagon's "B"), `box` in new-page points;
    `alignment` when `page` is the old page. From the text layer, else Tesseract on the box alone."""
    if page.has_text:
        words = page.words() if alignment is None else mapped_words(page.words(), alignment.matrix)
        inside = [w.text for w in _words_in(words, _grow(box, 1.0))]
    elif settings.ocr:
        if alignment is not None:
            box = _map_box(box, align.invert(alignment.matrix))
        try:
            inside = [w.text for w in _ocr_box(page, box, pad=1.0)]
        except ExternalToolError:
            inside = []
    else:
        inside = []
    text = " ".join(inside).strip(" .|")
    return text[:20] or None
