"""Sheets: read a page's sheet number and title, and make its thumbnail.

Numbers come from the text layer, or from Tesseract on the title block of pages without one (scans,
and vector sheets whose text is outlined). Each page keeps its best few number readings
(processing/titleblock.py); matching (processing/matching.py) pairs the sets on all the evidence.
"""
from __future__ import annotations

import cv2
import numpy as np

from buildtrace_desktop.errors import ExternalToolError
from buildtrace_desktop.processing import documents, ocr
from buildtrace_desktop.processing.imaging import shrink
from buildtrace_desktop.processing.matching import match_sheets, normalize_number, normalize_title
from buildtrace_desktop.processing.titleblock import (
    NUMBER_LABEL_RE,
    NumberCandidate,
    TextLine,
    clean_number,
    find_title,
    join_into_lines,
    looks_like_sheet_number,
    number_candidates,
)
from buildtrace_desktop.processing.types import CompareSettings, PageRef, SheetInfo

__all__ = ["match_sheets", "normalize_number", "normalize_title", "read_sheet", "render_thumbnail",
           "thumbnail_of"]
THUMB_WIDTH = 64
MAX_OCR_WORDS = 800  # title-block words kept for matching (a dense title block has 300-600)


def read_sheet(page: PageRef, settings: CompareSettings, with_thumbnail: bool = True) -> SheetInfo:
    """Number readings, title and size of a page, and its thumbnail. With `with_thumbnail` False, a
    numbered vector page gets none: a comparison makes the thumbnails of matched sheets from the diff's
    renders and renders the few that matching compares by looks (a thumbnail costs as much as reading
    the text)."""
    with documents.open_page(page, settings) as opened:
        if with_thumbnail and opened.ref.kind != "image":
            opened.display_list()  # parsed once: the text and the thumbnail's render both replay it
        width, height = opened.size
        ocr_words: list[str] = []
        if opened.has_text:
            lines, source = text_layer_lines(opened), "text"
        elif settings.ocr:
            try:
                words = _ocr_title_block_words(opened)
            except ExternalToolError:
                words = []  # Tesseract crashed or timed out: no number, which the report flags
            lines, source = words + join_into_lines(words), "ocr"
            ocr_words = [w.text for w in words][:MAX_OCR_WORDS]
        else:
            lines, source = [], None
        candidates = number_candidates(lines, width, height)
        if source == "ocr":
            candidates = _reread_number(opened, lines, candidates, width, height)
            # drawing titles are capitals; OCR debris rarely is
            lines = [t for t in lines if t.text.upper() == t.text and len(t.text.split()) >= 2]
        number = candidates[0] if candidates else None
        anchor = number or NumberCandidate("", 0.0, (0.85 * width, 0.9 * height, width, height))
        title = find_title(lines, anchor, width, height) if lines else None
        # Skipped only for a vector page with a number, which matching rarely compares by looks and
        # whose render is cheap when it does; a scan's image is costly to decode twice.
        skip = not with_thumbnail and source == "text" and number is not None
        thumb = None if skip else render_thumbnail(opened)
    return SheetInfo(
        set_index=page.set_index,
        sheet_number=number.text if number else None,
        title=title,
        number_source=source if number else None,
        page_size=(width, height),
        has_text_layer=opened.has_text,
        thumbnail=thumb,
        number_candidates=[[c.text, c.weight, [round(v, 1) for v in c.box]] for c in candidates],
        ocr_words=ocr_words,
    )


def text_layer_lines(opened: documents.OpenPage) -> list[TextLine]:
    """Every span of the text layer, and every line of several spans joined (with and without spaces:
    a number may be set as two spans, "SC20" "-TN01")."""
    out: list[TextLine] = []
    for block in opened.text_dict().get("blocks", []):
        for line in block.get("lines", []):
            spans = [s for s in line.get("spans", []) if s["text"].strip()]
            if not spans:
                continue
            for s in spans:  # a span alone can be the number ("A121" among other text)
                out.append(TextLine(s["text"].strip(), tuple(s["bbox"]), float(s["size"])))
            if len(spans) > 1:
                box = (min(s["bbox"][0] for s in spans), min(s["bbox"][1] for s in spans),
                       max(s["bbox"][2] for s in spans), max(s["bbox"][3] for s in spans))
                size = max(float(s["size"]) for s in spans)
                out.append(TextLine(" ".join(s["text"].strip() for s in spans), box, size))
                # pieces set edge to edge ("SC20" "-TN01") are one word; a gap makes them two texts
                touching = all(b["bbox"][0] - a["bbox"][2] < 0.15 * size for a, b in zip(spans, spans[1:], strict=False))
                tight = "".join(s["text"].strip() for s in spans)
                if len(spans) <= 3 and touching and looks_like_sheet_number(tight):
                    out.append(TextLine(tight, box, size, whole=True))
    return out


def _ocr_title_block_words(opened: documents.OpenPage) -> list[TextLine]:
    """OCR the places title blocks live: the bottom-right corner, and the right-hand strip above it when
    the corner holds no sheet number (half the Tesseract time of a scanned sheet)."""
    width, height = opened.size
    # Images and scans: their own resolution (more adds nothing but time); 150 dpi at most.
    dpi = min(150.0, opened.image_dpi or 150.0)
    corner = (0.62 * width, 0.78 * height, width, height)
    words = _ocr_clip(opened, corner, dpi, psm=11, min_conf=10)  # the pattern filters the noise
    if not number_candidates(words + join_into_lines(words), width, height):
        words += _ocr_clip(opened, (0.86 * width, 0.0, width, 0.78 * height), dpi, psm=11, min_conf=10)
    return words


def _ocr_clip(opened: documents.OpenPage, clip, dpi: float, psm: int, min_conf: float) -> list[TextLine]:
    gray = opened.render_gray(dpi, clip)
    k = 72.0 / dpi
    return [TextLine(w.text, (clip[0] + w.box[0] * k, clip[1] + w.box[1] * k, clip[0] + w.box[2] * k,
                              clip[1] + w.box[3] * k), (w.box[3] - w.box[1]) * k)
            for w, _conf in ocr.ocr_words(gray, psm=psm, min_conf=min_conf)]


def _reread_number(opened: documents.OpenPage, lines: list[TextLine], candidates: list[NumberCandidate],
                   width: float, height: float) -> list[NumberCandidate]:
    """Read the number again where sparse-text OCR of a whole title block misreads it: the box a number
    label names, alone; without a label and without any reading, the corner's biggest words as one line
    at 300 dpi. A reading found this way goes first."""
    found = _read_under_label(opened, lines, width, height)
    if found is None and not candidates:
        corner = [t for t in lines if t.box[0] > 0.6 * width and t.box[1] > 0.75 * height]
        for t in sorted(corner, key=lambda t: -t.size)[:2]:
            pad = 0.4 * t.size
            clip = (max(0.0, t.box[0] - pad), max(0.0, t.box[1] - pad), min(width, t.box[2] + pad),
                    min(height, t.box[3] + pad))
            text = clean_number("".join(w.text for w in _ocr_clip(opened, clip, 300.0, psm=7, min_conf=20)))
            if looks_like_sheet_number(text):
                found = NumberCandidate(text, 1.0, t.box)
                break
    if found is None:
        return candidates
    others = [NumberCandidate(c.text, round(0.9 * c.weight, 4), c.box) for c in candidates if c.text != found.text]
    return [found, *others][:len(candidates) + 1]


def _read_under_label(opened: documents.OpenPage, lines: list[TextLine], width: float,
                      height: float) -> NumberCandidate | None:
    """Title blocks label the number ("SHEET NO.", "DRAWING NUMBER"): read the box under or beside the
    label on its own. Marks stamped over a big number defeat a read of the whole title block."""
    for label in (t for t in lines if NUMBER_LABEL_RE.match(t.text.strip())):
        size = label.box[3] - label.box[1]
        clip = (max(0.0, label.box[0] - 2 * size), label.box[1],
                min(width, label.box[2] + 30 * size), min(height, label.box[3] + 12 * size))
        dpi = min(300.0, 4 * (opened.image_dpi or 75.0))
        for psm in (6, 11):
            texts = _ocr_clip(opened, clip, dpi, psm=psm, min_conf=20)
            numbers = [t for t in texts + join_into_lines(texts) if looks_like_sheet_number(clean_number(t.text))]
            if numbers:
                best = max(numbers, key=lambda t: (t.size, -len(t.text)))
                return NumberCandidate(clean_number(best.text), 1.0, best.box)
    return None


def read_words_in(page: PageRef, settings: CompareSettings,
                  boxes: list[tuple[tuple[float, float, float, float], float]]) -> list[str]:
    """The words OCR reads in each (box, text height) of a page (points), each box on its own, rendered
    so that text of that height is about 40 px tall (what Tesseract reads best), at most 400 dpi."""
    if not settings.ocr:
        return []
    words: list[str] = []
    with documents.open_page(page, settings) as opened:
        width, height = opened.size
        for box, text_height in boxes:
            dpi = min(400.0, max(72.0, 40.0 * 72.0 / max(1.0, text_height)))
            clip = (max(0.0, box[0]), max(0.0, box[1]), min(width, box[2]), min(height, box[3]))
            if clip[2] - clip[0] > 2 and clip[3] - clip[1] > 2:
                words += [w.text for w in _ocr_clip(opened, clip, dpi, psm=11, min_conf=10)]
    return words


def render_thumbnail(opened: documents.OpenPage) -> list[list[int]]:
    """The page's thumbnail, rendered small."""
    width, _height = opened.size
    dpi = max(1.0, THUMB_WIDTH * 72.0 / width)
    return thumbnail_of(opened.render_gray(dpi * 4))


def thumbnail_of(img: np.ndarray) -> list[list[int]]:
    """A THUMB_WIDTH-wide thumbnail of a page image (area-averaged: an integer shrink, then a resize)."""
    factor = max(1, img.shape[1] // (THUMB_WIDTH * 4))
    small = shrink(img, factor)
    target = (THUMB_WIDTH, max(1, round(small.shape[0] * THUMB_WIDTH / small.shape[1])))
    return cv2.resize(small, target, interpolation=cv2.INTER_AREA).tolist()
