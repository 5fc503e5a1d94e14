"""The title block's readings: sheet-number candidates and the sheet title, from lines of text.

Pure functions over `TextLine`s (text, box in page points, size), whatever read them: the text layer or
Tesseract. A number is not decided here alone: each sheet keeps its best few candidates with weights,
and matching (processing/matching.py) picks the reading that the whole set and the other set agree with
(a contract number printed on every sheet is no sheet number; a scan's slip is mended by the other set).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

Box = tuple[float, float, float, float]

# A-101, A101, AF101, E-1.01, A101-A, TSDE01, G001, SC20-TN01 ...
SHEET_NUMBER_RE = re.compile(r"^[A-Z]{1,4}[-. ]?\d{1,4}(?:[.-]\d{1,3})?[A-Z]?(?:-[A-Z0-9]{1,4})?$")
# ISO 19650 style: L01-H01D01-FOS-00-XX-MUP-AR-80050
ISO_NUMBER_RE = re.compile(r"^[A-Z0-9]{2,}(?:-[A-Z0-9]{1,}){4,}$")
NUMBER_LABEL_RE = re.compile(r"^(SHEET|DRAWING|DWG\.?|PLAN\s+REF\.?)\s*(NO\.?|NUMBER|#)\s*:?$", re.IGNORECASE)
# Labels of the other numbers a title block carries: a number they name is not the sheet's.
OTHER_NUMBER_LABEL_RE = re.compile(
    r"\b(PROJECT|PROJ|JOB|CONTRACT|LICEN[CS]E|LIC|REG|REGISTRATION|PERMIT|FILE|STAND|COMMISSION|CERT|CERTIFICATE|"
    r"PHONE|TEL|FAX|MODEL|REFERENCE|CAD|PLOT|ORDER|ACCOUNT|PARCEL|APN|FED|AID|ISSUE|DATE|SCALE|REVISION|REV)\b",
    re.IGNORECASE)
TITLE_LABEL_RE = re.compile(r"^(SHEET|DRAWING|DWG\.?)?\s*(TITLE|NAME)\s*:?$", re.IGNORECASE)
TITLE_STOPWORDS = {"SHEET", "DRAWING", "TITLE", "PROJECT", "NUMBER", "DATE", "SCALE", "CHECKED", "DRAWN",
                   "ISSUE", "REVISION", "DESCRIPTION", "NO", "SHEET TITLE", "DRAWING TITLE", "SEAL",
                   "DRAWING NUMBER", "SHEET NUMBER", "NUMBER VA", "ISSUE DATE"}
# A line of these words only is an issue stamp ("NOT FOR CONSTRUCTION", "CONCEPTUAL DESIGN"), not a title.
STAMP_WORDS = {"NOT", "FOR", "CONSTRUCTION", "CONCEPTUAL", "DESIGN", "PRELIMINARY", "REVIEW", "ONLY", "DRAFT",
               "ISSUED", "BID", "PERMIT", "SCHEMATIC", "PROGRESS", "TENDER", "INFORMATION", "RECORD",
               "DOCUMENTS", "PROCUREMENT", "SET", "ISSUE", "%", "100%", "50%", "90%", "95%"}
# Words of a firm's, an agency's or a client's name: their logo is often the largest text near the number.
ORGANISATION_WORDS = {"INC", "LLC", "LTD", "LLP", "PLLC", "PC", "CORP", "CORPORATION", "COMPANY", "CO",
                      "ARCHITECTS", "ARCHITECTURE", "ENGINEERS", "ENGINEERING", "ASSOCIATES", "PARTNERS",
                      "GROUP", "STUDIO", "CONSULTING", "CONSULTANTS", "DEPARTMENT", "STATE", "UNIVERSITY",
                      "COUNTY", "CITY", "GLOBAL", "AUTHORITY", "MINISTRY", "DISTRICT", "TRANSPORTATION",
                      "WWW", "COM", "COPYRIGHT", "©"}
MAX_CANDIDATES = 6


@dataclass
class TextLine:
    text: str
    box: Box
    size: float  # font size or glyph height, points
    whole: bool = False  # pieces of the text layer set edge to edge, joined: one word, not a part of one


@dataclass
class NumberCandidate:
    text: str
    weight: float  # 1 for the best reading of the sheet, less for the others
    box: Box


def clean_number(text: str) -> str:
    return text.strip().strip(".,:;|()[]").upper()


# A word and a number apart ("MAY 22", "LAB 1-129", "LEVEL 01", "SR 167") is a date, a room, a level or a
# route; a sheet number's letters are a discipline code, set close to its digits ("A 101" at most).
_WORD_AND_NUMBER_RE = re.compile(r"^[A-Z]{3,}\s+\d")
_MONTH_RE = re.compile(r"^(JAN|FEB|MAR|APR|MAY|JUNE?|JULY?|AUG|SEPT?|OCT|NOV|DEC)[A-Z]*[-. ]?\d{1,4}$")


def looks_like_sheet_number(text: str) -> bool:
    t = clean_number(text)
    if sum(c.isdigit() for c in t) < 2:  # "A1" exists, but "VA 4" (a logo and a stray digit) is commoner
        return False
    if _WORD_AND_NUMBER_RE.match(t) or _MONTH_RE.match(t):
        return False
    return bool(SHEET_NUMBER_RE.match(t) or ISO_NUMBER_RE.match(t))


def number_candidates(lines: list[TextLine], width: float, height: float) -> list[NumberCandidate]:
    """The sheet-number readings of a page, best first: number-shaped texts weighed by size and place
    (the title-block corner, then the right and bottom strips), doubled when a number label names them,
    cut when another label (project, contract, licence, file ...) does."""
    labels = [t.box for t in lines if NUMBER_LABEL_RE.match(t.text.strip())]
    others = [t.box for t in lines if len(t.text.split()) <= 4 and OTHER_NUMBER_LABEL_RE.search(t.text)
              and not looks_like_sheet_number(t.text)]
    best: dict[str, NumberCandidate] = {}
    for t, candidate in _number_shaped(lines):
        cx, cy = (t.box[0] + t.box[2]) / 2, (t.box[1] + t.box[3]) / 2
        if cx > 0.6 * width and cy > 0.75 * height:
            where = 3.0  # bottom-right title block
        elif cx > 0.85 * width or cy > 0.88 * height:
            where = 1.5  # right strip or bottom strip
        else:
            where = 0.3  # a reference to another sheet inside the drawing
        if any(label_names(label, t.box) for label in labels):
            where *= 2.0  # a route or project number ("SR 167") in the title block can be set larger
        elif any(label_names(label, t.box) for label in others):
            where *= 0.25
        # Ties: the shorter reading, without OCR's stray marks; but a word the text layer sets in pieces
        # ("SC20" "-TN01") is read whole.
        score = t.size * where + (0.02 if t.whole else -0.01) * len(candidate)
        if score > 0 and (candidate not in best or score > best[candidate].weight):
            best[candidate] = NumberCandidate(candidate, score, t.box)
    ranked = sorted(best.values(), key=lambda c: -c.weight)[:MAX_CANDIDATES]
    top = ranked[0].weight if ranked else 1.0
    return [NumberCandidate(c.text, round(c.weight / top, 4), c.box) for c in ranked]


def _number_shaped(lines: list[TextLine]):
    """(line, reading) for every line that reads as a sheet number, alone or squeezed (OCR splits big
    numbers: "AO1 1"; a title block may print one as two words: "SC20" "-TN01")."""
    for t in lines:
        candidate = clean_number(t.text)
        if looks_like_sheet_number(candidate):
            yield t, candidate
            continue
        squeezed = candidate.replace(" ", "")
        if len(squeezed) <= 40 and len(t.text.split()) <= 3 and looks_like_sheet_number(squeezed) \
                and not _WORD_AND_NUMBER_RE.match(candidate) and not _MONTH_RE.match(squeezed):
            yield t, squeezed


def label_names(label: Box, box: Box) -> bool:
    """Whether a label at `label` names the text at `box`: right under it, or right after it on its line."""
    height = label[3] - label[1]
    under = box[0] < label[2] + 2 * height and box[2] > label[0] and -0.5 * height <= box[1] - label[3] <= 3 * height
    beside = box[1] < label[3] and box[3] > label[1] and -0.5 * height <= box[0] - label[2] <= 6 * height
    return under or beside


def join_into_lines(words: list[TextLine]) -> list[TextLine]:
    """Group OCR words into text lines (same baseline band, small gaps), for titles and split numbers:
    every run of two or three neighbouring words, not just the whole line, since OCR adds stray marks
    ("i AF 101") that must not stick to the number."""
    lines: list[list[TextLine]] = []
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
        for start in range(len(line)):
            for end in range(start + 2, min(len(line), start + 3) + 1):
                out.append(_joined(line[start:end]))
        if len(line) > 3:  # the whole line too: a title of many words
            out.append(_joined(line))
    return out


def _joined(run: list[TextLine]) -> TextLine:
    return TextLine(" ".join(t.text for t in run),
                    (min(t.box[0] for t in run), min(t.box[1] for t in run),
                     max(t.box[2] for t in run), max(t.box[3] for t in run)),
                    float(np.median([t.size for t in run])))


# --- titles -------------------------------------------------------------------------------------------


def find_title(lines: list[TextLine], number: TextLine | NumberCandidate, width: float, height: float) -> str | None:
    """The sheet title: under a title label ("DRAWING TITLE") when the title block has one, else the
    largest wordy text near the sheet number; a title set on several lines is joined in reading order."""
    labelled = _labelled_title(lines, width, height)
    if labelled:
        return labelled
    x_min, y_min = number.box[0] - 0.35 * width, number.box[1] - 0.2 * height
    y_max = number.box[3] + 0.06 * height
    near = [t for t in lines if t.box[0] >= x_min and y_min <= t.box[1] <= y_max and t.box[0] < width
            and t.text != number.text]
    starts = [t for t in near if is_title_text(t.text) and not _organisation(t.text)]
    if not starts:
        return None
    size = max(t.size for t in starts)
    top = [t for t in starts if abs(t.size - size) < 0.6]
    anchor = min(top, key=lambda t: (round(abs(t.box[1] - number.box[1]) / max(1.0, size)), -len(t.text)))
    same_size = [t for t in near if abs(t.size - anchor.size) < 0.6 and _continues_title(t.text)]
    return _stack(anchor, same_size)


def _labelled_title(lines: list[TextLine], width: float, height: float) -> str | None:
    """The lines under a title label, in the title block, down to the next label or a gap."""
    for label in (t for t in lines if TITLE_LABEL_RE.match(t.text.strip()) and t.box[0] > 0.5 * width):
        h = label.box[3] - label.box[1]
        below = [t for t in lines if 0 <= t.box[1] - label.box[3] + 0.3 * h <= 12 * h
                 and abs(t.box[0] - label.box[0]) < 3 * h and _continues_title(t.text)
                 and t.size >= 0.9 * label.size and not looks_like_sheet_number(t.text)]
        wordy = [t for t in below if is_title_text(t.text)]
        if not wordy:
            continue
        first = min(wordy, key=lambda t: t.box[1])
        title = _stack(first, [t for t in below if abs(t.size - first.size) < 0.6])
        if title:
            return title
    return None


def _stack(anchor: TextLine, lines: list[TextLine]) -> str | None:
    """`anchor` grown by the lines stacked right above or below it (gap under 0.8 of the size, overlapping
    in x), joined top to bottom."""
    parts = [anchor]
    size = anchor.size
    grew = True
    while grew:
        grew = False
        for t in lines:
            if any(t.text == p.text or _overlap(t.box, p.box) > 0.2 for p in parts):
                continue  # the same text again, or a piece of a line already taken
            gap = min(max(t.box[1] - p.box[3], p.box[1] - t.box[3]) for p in parts)
            overlaps = t.box[0] < max(p.box[2] for p in parts) and t.box[2] > min(p.box[0] for p in parts)
            if gap < 0.8 * size and overlaps:
                parts.append(t)
                grew = True
    parts.sort(key=lambda t: (round(t.box[1] / max(1.0, 0.5 * size)), t.box[0]))
    return " ".join(p.text for p in parts)[:200] or None


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def is_title_text(text: str) -> bool:
    """Whether a line can start a title: mostly words, not a label, a stamp or a number."""
    if re.search(r"[^\w &+\-/.,'()#:]", text):
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


def _continues_title(text: str) -> bool:
    """A later line of a title may be short and partly numbers ("A - POWER &", "LEVEL 01"), but is no
    label and no organisation."""
    if re.search(r"[^\w &+\-/.,'()#:]", text) or text.rstrip().endswith(":"):
        return False
    if text.strip().upper() in TITLE_STOPWORDS or _organisation(text):
        return False
    return sum(c.isalpha() for c in text) >= 1


def _organisation(text: str) -> bool:
    words = {w.strip(".,()").upper() for w in text.split()}
    return bool(words & ORGANISATION_WORDS)
