"""Sheets: read a page's sheet number and title, and match an old set to a new one.

Numbers come from the text layer (largest sheet-number-shaped text, title-block corner first) or from
Tesseract on the title block of scans. Sets are matched by normalised number, then title, then looks;
never by page order alone.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from buildtrace_desktop.errors import ExternalToolError
from buildtrace_desktop.processing import documents, ocr
from buildtrace_desktop.processing.imaging import shrink
from buildtrace_desktop.processing.types import CompareSettings, PageRef, SheetInfo, SheetMatch

# A-101, A101, AF101, E-1.01, A101-A, TSDE01, G001 ...
SHEET_NUMBER_RE = re.compile(r"^[A-Z]{1,4}[-. ]?\d{1,4}(?:[.-]\d{1,3})?[A-Z]?(?:-[A-Z0-9]{1,3})?$")
# ISO 19650 style: L01-H01D01-FOS-00-XX-MUP-AR-80050
ISO_NUMBER_RE = re.compile(r"^[A-Z0-9]{2,}(?:-[A-Z0-9]{1,}){4,}$")
TITLE_STOPWORDS = {"SHEET", "DRAWING", "TITLE", "PROJECT", "NUMBER", "DATE", "SCALE", "CHECKED", "DRAWN",
                   "ISSUE", "REVISION", "DESCRIPTION", "NO", "SHEET TITLE", "DRAWING TITLE", "SEAL",
                   "DRAWING NUMBER", "SHEET NUMBER", "NUMBER VA", "ISSUE DATE"}
# A line of these words only is an issue stamp ("NOT FOR CONSTRUCTION", "CONCEPTUAL DESIGN"), not a title.
STAMP_WORDS = {"NOT", "FOR", "CONSTRUCTION", "CONCEPTUAL", "DESIGN", "PRELIMINARY", "REVIEW", "ONLY", "DRAFT",
               "ISSUED", "BID", "PERMIT", "SCHEMATIC", "PROGRESS", "TENDER", "INFORMATION", "RECORD"}
THUMB_WIDTH = 64


@dataclass
class _Text:
    text: str
    box: tuple[float, float, float, float]
    size: float  # font size or glyph height, points


def read_sheet(page: PageRef, settings: CompareSettings, with_thumbnail: bool = True) -> SheetInfo:
    """Number, title and size of a page, and its thumbnail. With `with_thumbnail` False, a numbered vector
    page gets none: a comparison makes the thumbnails of matched sheets from the diff's renders and
    renders the few that matching compares by looks (a thumbnail costs as much as reading the text)."""
    with documents.open_page(page, settings) as opened:
        if with_thumbnail and opened.ref.kind != "image":
            opened.display_list()  # parsed once: the text and the thumbnail's render both replay it
        width, height = opened.size
        if opened.has_text:
            lines = _text_layer_lines(opened)
            source = "text"
        elif settings.ocr:
            try:
                lines = _ocr_title_block_lines(opened)
            except ExternalToolError:
                lines = []  # Tesseract crashed or timed out: no number, which the report flags
            source = "ocr"
        else:
            lines, source = [], None
        number_line = find_sheet_number(lines, width, height)
        if source == "ocr":
            number_line = _reread_number(opened, lines, number_line, width, height)
        if source == "ocr":  # drawing titles are capitals; OCR debris rarely is
            lines = [t for t in lines if t.text.upper() == t.text and len(t.text.split()) >= 2] + \
                [number_line] * bool(number_line)
        title = find_title(lines, number_line, width, height) if number_line else None
        # Skipped only for a vector page with a number, which matching rarely compares by looks and
        # whose render is cheap when it does; a scan's image is costly to decode twice.
        skip = not with_thumbnail and source == "text" and number_line is not None
        thumb = None if skip else render_thumbnail(opened)
    return SheetInfo(
        set_index=page.set_index,
        sheet_number=number_line.text if number_line else None,
        title=title,
        number_source=source if number_line else None,
        page_size=(width, height),
        has_text_layer=opened.has_text,
        thumbnail=thumb,
    )


def _text_layer_lines(opened: documents.OpenPage) -> list[_Text]:
    out: list[_Text] = []
    for block in opened.text_dict().get("blocks", []):
        for line in block.get("lines", []):
            spans = [s for s in line.get("spans", []) if s["text"].strip()]
            if not spans:
                continue
            for s in spans:  # a span alone can be the number ("A121" among other text)
                out.append(_Text(s["text"].strip(), tuple(s["bbox"]), float(s["size"])))
            if len(spans) > 1:
                text = " ".join(s["text"].strip() for s in spans)
                x0 = min(s["bbox"][0] for s in spans)
                y0 = min(s["bbox"][1] for s in spans)
                x1 = max(s["bbox"][2] for s in spans)
                y1 = max(s["bbox"][3] for s in spans)
                out.append(_Text(text, (x0, y0, x1, y1), max(float(s["size"]) for s in spans)))
    return out


def _ocr_title_block_lines(opened: documents.OpenPage) -> list[_Text]:
    """OCR the two places title blocks live: the bottom-right corner and the right-hand strip."""
    width, height = opened.size
    # Images and scans: their own resolution (more adds nothing but time); 150 dpi at most.
    dpi = min(150.0, opened.image_dpi or 150.0)
    regions = [(0.62 * width, 0.78 * height, width, height), (0.86 * width, 0.0, width, 0.78 * height)]
    lines: list[_Text] = []
    for clip in regions:
        gray = opened.render_gray(dpi, clip)
        scale = 72.0 / dpi
        words = [
            _Text(w.text, (clip[0] + w.box[0] * scale, clip[1] + w.box[1] * scale,
                           clip[0] + w.box[2] * scale, clip[1] + w.box[3] * scale), (w.box[3] - w.box[1]) * scale)
            for w, _conf in ocr.ocr_words(gray, psm=11, min_conf=10)  # the pattern filters the noise
        ]
        lines.extend(words)
        lines.extend(_join_into_lines(words))
    return lines


def _reread_number(opened: documents.OpenPage, lines: list[_Text], found: _Text | None,
                   width: float, height: float) -> _Text | None:
    """When the title-block OCR found no number, read its biggest words again, alone, as one line at
    300 dpi: sparse-text OCR of a whole title block splits and misreads big characters."""
    labelled = _read_under_label(opened, lines, width, height)
    if labelled is not None:
        return labelled
    if found is not None:
        return found
    corner = [t for t in lines if t.box[0] > 0.6 * width and t.box[1] > 0.75 * height]
    for t in sorted(corner, key=lambda t: -t.size)[:2]:
        pad = 0.4 * t.size
        clip = (max(0.0, t.box[0] - pad), max(0.0, t.box[1] - pad), min(width, t.box[2] + pad),
                min(height, t.box[3] + pad))
        words = ocr.ocr_words(opened.render_gray(300.0, clip), psm=7, min_conf=20)
        text = clean_number("".join(w.text for w, _conf in words))
        if looks_like_sheet_number(text):
            return _Text(text, t.box, t.size)
    return found


NUMBER_LABEL_RE = re.compile(r"^(SHEET|DRAWING|DWG\.?|PLAN\s+REF\.?)\s*(NO\.?|NUMBER|#)\s*:?$", re.IGNORECASE)


def _read_under_label(opened: documents.OpenPage, lines: list[_Text], width: float,
                      height: float) -> _Text | None:
    """Title blocks label the number ("SHEET NO.", "DRAWING NUMBER"): read the box under or beside the
    label on its own. Marks stamped over a big number defeat a read of the whole title block."""
    for label in (t for t in lines if NUMBER_LABEL_RE.match(t.text.strip())):
        size = label.box[3] - label.box[1]
        clip = (max(0.0, label.box[0] - 2 * size), label.box[1],
                min(width, label.box[2] + 30 * size), min(height, label.box[3] + 12 * size))
        dpi = min(300.0, 4 * (opened.image_dpi or 75.0))
        for psm in (6, 11):
            words = ocr.ocr_words(opened.render_gray(dpi, clip), psm=psm, min_conf=20)
            k = 72.0 / dpi
            texts = [_Text(w.text, (clip[0] + w.box[0] * k, clip[1] + w.box[1] * k, clip[0] + w.box[2] * k,
                                    clip[1] + w.box[3] * k), (w.box[3] - w.box[1]) * k) for w, _conf in words]
            numbers = [t for t in texts + _join_into_lines(texts) if looks_like_sheet_number(clean_number(t.text))]
            if numbers:
                best = max(numbers, key=lambda t: (t.size, -len(t.text)))
                return _Text(clean_number(best.text), best.box, best.size)
    return None


def _join_into_lines(words: list[_Text]) -> list[_Text]:
    """Group OCR words into text lines (same baseline band, small gaps), for titles and split numbers."""
    lines: list[list[_Text]] = []
    for w in sorted(words, key=lambda t: (t.box[0], t.box[1])):  # left to right: each joins the line it extends
        for line in lines:
            last = line[-1]
            same_band = abs((w.box[1] + w.box[3]) - (last.box[1] + last.box[3])) / 2 < 0.5 * max(w.size, last.size)
            close = -0.5 * max(w.size, last.size) <= w.box[0] - last.box[2] < 1.5 * max(w.size, last.size)
            if same_band and close:
                line.append(w)
                break
        else:
            lines.append([w])
    out = []
    for line in lines:
        # Every run of two or three neighbouring words, not just the whole line: OCR adds stray marks
        # ("i AF 101") that must not stick to the number.
        for start in range(len(line)):
            for end in range(start + 2, min(len(line), start + 3) + 1):
                run = line[start:end]
                out.append(_Text(" ".join(t.text for t in run),
                                 (min(t.box[0] for t in run), min(t.box[1] for t in run),
                                  max(t.box[2] for t in run), max(t.box[3] for t in run)),
                                 float(np.median([t.size for t in run]))))
    return out


def clean_number(text: str) -> str:
    return text.strip().strip(".,:;|()[]").upper()


def looks_like_sheet_number(text: str) -> bool:
    t = clean_number(text)
    if sum(c.isdigit() for c in t) < 2:  # "A1" exists, but "VA 4" (a logo and a stray digit) is commoner
        return False
    return bool(SHEET_NUMBER_RE.match(t) or ISO_NUMBER_RE.match(t))


def find_sheet_number(lines: list[_Text], width: float, height: float) -> _Text | None:
    """The sheet number: the largest number-shaped text, favouring the title-block corner and text
    that a label ("SHEET NO.", "PLAN REF NO") names as the number."""
    labels = [t.box for t in lines if NUMBER_LABEL_RE.match(t.text.strip())]
    best, best_score = None, 0.0
    for t in lines:
        candidate = clean_number(t.text)
        if not looks_like_sheet_number(candidate):
            # OCR splits big numbers ("AO1 1"); a short text that reads as a number unsplit is one.
            squeezed = candidate.replace(" ", "")
            if len(squeezed) > 10 or not looks_like_sheet_number(squeezed):
                continue
            candidate = squeezed
        cx, cy = (t.box[0] + t.box[2]) / 2, (t.box[1] + t.box[3]) / 2
        if cx > 0.6 * width and cy > 0.75 * height:
            where = 3.0  # bottom-right title block
        elif cx > 0.85 * width or cy > 0.88 * height:
            where = 1.5  # right strip or bottom strip
        else:
            where = 0.3  # a reference to another sheet inside the drawing
        if any(_label_names(label, t.box) for label in labels):
            where *= 2.0  # a route or project number ("SR 167") in the title block can be set larger
        score = t.size * where - 0.01 * len(candidate)  # ties: the shorter reading, without stray marks
        if score > best_score:
            best, best_score = _Text(candidate, t.box, t.size), score
    return best


def _label_names(label: tuple, box: tuple) -> bool:
    """Whether a label at `label` names the text at `box`: right under it, or right after it on its line."""
    height = label[3] - label[1]
    under = box[0] < label[2] and box[2] > label[0] and -0.5 * height <= box[1] - label[3] <= 3 * height
    beside = box[1] < label[3] and box[3] > label[1] and -0.5 * height <= box[0] - label[2] <= 6 * height
    return under or beside


def find_title(lines: list[_Text], number: _Text, width: float, height: float) -> str | None:
    """The sheet title: the largest wordy text near the sheet number, lines of one size joined."""
    x_min, y_min = number.box[0] - 0.35 * width, number.box[1] - 0.2 * height
    y_max = number.box[3] + 0.06 * height
    near = [t for t in lines if t.box[0] >= x_min and y_min <= t.box[1] <= y_max and t.box[0] < width
            and _is_title_text(t.text) and t.text != number.text]
    if not near:
        return None
    size = max(t.size for t in near)
    # Prefer the biggest text; ties and multi-line titles: same size, stacked, overlapping in x.
    top = [t for t in near if abs(t.size - size) < 0.6]
    anchor = min(top, key=lambda t: (round(abs(t.box[1] - number.box[1]) / max(1.0, size)), -len(t.text)))
    parts = [anchor]
    grew = True
    while grew:  # grow the title by lines of the same size stacked right above or below it
        grew = False
        for t in top:
            if any(t.text == p.text or _overlap(t.box, p.box) > 0.2 for p in parts):
                continue  # the same text again, or a piece of a line already taken
            gap = min(max(t.box[1] - p.box[3], p.box[1] - t.box[3]) for p in parts)
            overlaps = t.box[0] < max(p.box[2] for p in parts) and t.box[2] > min(p.box[0] for p in parts)
            if gap < 0.8 * size and overlaps:
                parts.append(t)
                grew = True
    parts.sort(key=lambda t: t.box[1])
    return " ".join(p.text for p in parts)[:200]


def _overlap(a: tuple, b: tuple) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def _is_title_text(text: str) -> bool:
    if re.search(r"[^A-Za-z0-9 &+\-/.,'()#:]", text):
        return False  # OCR debris ("¢", "{") never belongs to a title
    words = text.split()
    if sum(len(w) >= 3 and w.isalpha() for w in words) < max(1, len(words) // 2):
        return False
    letters = sum(c.isalpha() for c in text)
    if letters < 4 or text.rstrip().endswith(":"):
        return False
    if text.strip().upper() in TITLE_STOPWORDS or all(w.upper() in STAMP_WORDS for w in words):
        return False
    if looks_like_sheet_number(text):
        return False
    return letters >= 0.6 * len(text.replace(" ", ""))


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


# --- matching -------------------------------------------------------------------------------------------

_DIGIT_SLIPS = str.maketrans({"O": "0", "I": "1", "|": "1"})


def normalize_number(number: str | None) -> str | None:
    """A-101 = A101 = A 101 = a-1O1: letters up to the first digit kept, OCR slips after it mended."""
    if not number:
        return None
    t = re.sub(r"[^A-Z0-9|]", "", number.upper())
    # The discipline prefix keeps its letters, except O and I which are taken as 0 and 1 when they
    # stand between digits or after the first digit.
    match = re.search(r"\d", t)
    if match is None:
        return t.replace("O", "0") or None
    head, tail = t[: match.start()], t[match.start():]
    tail = re.sub(r"[OI|](?=\d|$)|(?<=\d)[OI|]", lambda m: m.group(0).translate(_DIGIT_SLIPS), tail)
    head = head.replace("O", "0")
    if len(head) >= 2 and head.endswith("I"):  # "E-I01": an I right before the digits is a 1
        head = head[:-1] + "1"
    return (head + tail) or None


def normalize_title(title: str | None) -> str | None:
    if not title:
        return None
    return re.sub(r"[^A-Z0-9]+", " ", title.upper()).strip() or None


def thumbnail_similarity(a: list[list[int]] | None, b: list[list[int]] | None) -> float:
    """Normalised correlation of two thumbnails (resized to the same shape): 1 = the same picture."""
    if not a or not b:
        return 0.0
    img_a, img_b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    img_b = cv2.resize(img_b, (img_a.shape[1], img_a.shape[0]), interpolation=cv2.INTER_AREA)
    img_a, img_b = 255 - img_a, 255 - img_b  # ink is the signal, paper is not
    da, db = img_a - img_a.mean(), img_b - img_b.mean()
    denom = float(np.sqrt((da * da).sum() * (db * db).sum()))
    return float((da * db).sum() / denom) if denom > 0 else 0.0


VISUAL_MATCH_MIN = 0.55
VISUAL_RENUMBERED_MIN = 0.95


def match_sheets(old: list[SheetInfo], new: list[SheetInfo],
                 thumbnail: Callable[[str, int], list[list[int]] | None] | None = None) -> list[SheetMatch]:
    """Pair old and new sheets: by number, then by title, then by looks. The rest are removed / added.

    `thumbnail(side, set_index)` ("old" / "new") makes the thumbnail of a sheet that is compared by looks
    and has none; it is stored in the sheet's `thumbnail`."""
    matches: list[SheetMatch] = []
    old_left = {s.set_index: s for s in old}
    new_left = {s.set_index: s for s in new}

    def pair(o: SheetInfo, n: SheetInfo, method: str) -> None:
        renumbered = method != "number" and bool(o.sheet_number and n.sheet_number) and \
            normalize_number(o.sheet_number) != normalize_number(n.sheet_number)
        matches.append(SheetMatch("matched", o.set_index, n.set_index, method, renumbered))
        del old_left[o.set_index], new_left[n.set_index]

    for key, method in ((lambda s: normalize_number(s.sheet_number), "number"),
                        (lambda s: normalize_title(s.title), "title")):
        old_by = _unique_by(old_left.values(), key)
        new_by = _unique_by(new_left.values(), key)
        for k in sorted(set(old_by) & set(new_by), key=lambda k: old_by[k].set_index):
            pair(old_by[k], new_by[k], method)

    # By looks: best pairs first, only sheets of similar shape, only above a floor.
    if thumbnail is not None and old_left and new_left:
        for side, left in (("old", old_left), ("new", new_left)):
            for info in left.values():
                if info.thumbnail is None:
                    info.thumbnail = thumbnail(side, info.set_index)
    candidates = []
    for o in old_left.values():
        for n in new_left.values():
            if not _similar_shape(o.page_size, n.page_size):
                continue
            candidates.append((thumbnail_similarity(o.thumbnail, n.thumbnail), o.set_index, n.set_index))
    for score, oi, ni in sorted(candidates, reverse=True):
        if score < VISUAL_MATCH_MIN:
            break
        if oi not in old_left or ni not in new_left:
            continue
        numbered = old_left[oi].sheet_number and new_left[ni].sheet_number
        # Two sheets with different numbers and titles are different sheets unless they look the same:
        # plans of one floor by two trades look alike at thumbnail size.
        if numbered and score < VISUAL_RENUMBERED_MIN:
            continue
        pair(old_left[oi], new_left[ni], "visual")

    matches.extend(SheetMatch("removed", i, None, "only") for i in sorted(old_left))
    matches.extend(SheetMatch("added", None, i, "only") for i in sorted(new_left))
    return matches


def _unique_by(sheets, key) -> dict[str, SheetInfo]:
    seen: dict[str, SheetInfo] = {}
    dupes: set[str] = set()
    for s in sheets:
        k = key(s)
        if not k:
            continue
        if k in seen:
            dupes.add(k)
        seen[k] = s
    return {k: v for k, v in seen.items() if k not in dupes}


def _similar_shape(a: tuple[float, float], b: tuple[float, float]) -> bool:
    ra, rb = a[0] / max(a[1], 1e-6), b[0] / max(b[1], 1e-6)
    return abs(ra - rb) / max(ra, rb) < 0.1
