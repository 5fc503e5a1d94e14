"""Offline change summary: deterministic words built from a comparison report. No network, no Qt, no db.

In: the report dict of eval/REPORT_FORMAT.md (sheets with sheet_number, title, status, page_size in points,
changes with kind, bbox in NEW page points, text_removed, text_added) and, optionally, the words of each
NEW page as (x0, y0, x1, y1, text) tuples in NEW page points, used to name the nearest grid line or label.
Out: {"source": "offline", "text": str, "sheets": {sheet key: str}, "items": [dict], "counts": dict}.
`render_summary` turns any summary dict (offline or LLM) into plain text or Markdown.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from buildtrace_desktop.processing.what import what_of

WordTuple = tuple[float, float, float, float, str]  # x0, y0, x1, y1 (NEW page points), text

SUMMARY_VERSION = 1
KINDS = ("added", "removed", "modified")
MAX_TEXT_CHARS = 400  # per side of a change; longer notes are cut with a count of what was left out
NEAR_LABEL_POINTS = 144.0  # 2 inches: a label farther from the change than this says nothing about it

_GRID_LABEL = re.compile(r"^([A-Z]{1,2}|\d{1,2})(\.\d{1,2})?$")
# Short words that look like grid labels in a note's text layer but never name a grid line.
_NOT_GRID = {"AN", "AS", "AT", "BE", "BY", "DO", "IF", "IN", "IS", "IT", "NO", "OF", "ON", "OR", "SO", "TO", "UP",
             "WE", "EA", "MIN", "MAX", "TYP", "EQ"}
_ROW_NAMES = ("top", "middle", "bottom")
_COL_NAMES = ("left", "centre", "right")


# ---------------------------------------------------------------- describing one change


def join_words(words: Sequence[str], limit: int = MAX_TEXT_CHARS) -> str:
    """Words as one string; cut at `limit` characters with a note of how many words were left out."""
    out: list[str] = []
    length = 0
    for i, word in enumerate(words):
        if out and length + len(word) + 1 > limit:
            return " ".join(out) + f" … ({len(words) - i} more words)"
        out.append(word)
        length += len(word) + 1
    return " ".join(out)


_LENGTH = re.compile(r"(?:(\d+)'\s*-?\s*)?(\d+(?:\.\d+)?)?(?:[\s-]*(\d+)/(\d+))?\s*\"?")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
# A number with one of these units after it is a quantity (an area, a load); "D5" or "ROOM 101" are names.
_QUANTITY = re.compile(
    r"#\s*(S\.?F\.?|SQ\.?\s*FT\.?|LBS?\.?|CFM|GPM|KW|KVA|V|A|AMPS?|PSI|PSF|%|MM|CM|M|FT|IN|TONS?|GAL|OCC\.?)",
    re.IGNORECASE,
)


def parse_length(text: str) -> float | None:
    """A dimension as a number: 3'-1" -> 37 (inches), 1'-6 1/2" -> 18.5, 7/8" -> 0.875, 167 -> 167."""
    text = text.strip().replace("’", "'").replace("′", "'").replace("”", '"').replace("″", '"')
    match = _LENGTH.fullmatch(text)
    if not text or match is None or not any(match.groups()):
        return None
    feet, inches, numerator, denominator = match.groups()
    value = float(feet or 0) * 12 + float(inches or 0)
    if numerator and denominator and float(denominator) > 0:
        value += float(numerator) / float(denominator)
    return value


def _single_number(text: str) -> tuple[str, float] | None:
    """(the text with its one number blanked, the number), for values such as "61,789 S.F"."""
    numbers = _NUMBER.findall(text)
    template = _NUMBER.sub("#", text)
    if len(numbers) != 1 or not _QUANTITY.fullmatch(template.strip()):
        return None
    return template, float(numbers[0].replace(",", ""))


def value_direction(old: Sequence[str], new: Sequence[str]) -> str | None:
    """ "increased" / "reduced" when old and new are the same kind of value (a length, or one number with the
    same words around it, such as an area), else None."""
    old_text, new_text = " ".join(old), " ".join(new)
    before, after = parse_length(old_text), parse_length(new_text)
    if before is None or after is None:
        old_value, new_value = _single_number(old_text), _single_number(new_text)
        if old_value is None or new_value is None or old_value[0] != new_value[0]:
            return None
        before, after = old_value[1], new_value[1]
    if before == after:
        return None
    return "increased" if after > before else "reduced"


def change_category(change: Mapping[str, Any]) -> str:
    """What a reviewer would call the change: "dimension changed", "note added", "line work removed", …
    (the engine's `what`; a text change whose value grew or shrank is a "value changed")."""
    removed, added = change.get("text_removed") or [], change.get("text_added") or []
    what = change.get("what") or what_of(change.get("kind", "modified"), removed, added)
    if what == "text changed" and value_direction(removed, added):
        return "value changed"
    return what


def describe_text(change: Mapping[str, Any]) -> str:
    """The changed text in words: “167” → “175”, added “OWNER FURNISHED EQUIPMENT”, removed “PT-2”."""
    removed, added = change.get("text_removed") or [], change.get("text_added") or []
    if removed and added:
        return f"“{join_words(removed)}” → “{join_words(added)}”"
    if added:
        return f"“{join_words(added)}”"
    if removed:
        return f"“{join_words(removed)}”"
    return ""


def region_name(bbox: Sequence[float], page_size: Sequence[float] | None) -> str:
    """Where the box's centre lies on the sheet, in a 3 x 3 grid: "top left", "centre", "bottom right"."""
    if not page_size or page_size[0] <= 0 or page_size[1] <= 0:
        return ""
    cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    col = min(2, max(0, int(3 * cx / page_size[0])))
    row = min(2, max(0, int(3 * cy / page_size[1])))
    if row == 1 and col == 1:
        return "centre"
    if row == 1:
        return f"middle {_COL_NAMES[col]}"
    return f"{_ROW_NAMES[row]} {_COL_NAMES[col]}"


# ---------------------------------------------------------------- labels near a change


def _centre(box: Sequence[float]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def grid_lines(words: Sequence[WordTuple], page_size: Sequence[float]) -> tuple[dict, dict]:
    """Grid bubbles: a grid-like label (A, 12, C.1) printed at both ends of its line.

    Returns ({label: x} for vertical lines, {label: y} for horizontal lines), in points. A label counts only
    when the same text appears twice, far apart along one axis and aligned on the other, which is what grid
    bubbles at both ends of a line look like; a lone "A" in a note is not a grid line.
    """
    by_text: dict[str, list[tuple[float, float]]] = {}
    index = _bucket_words(words)
    for word in words:
        label = word[4].strip()
        if _GRID_LABEL.match(label) and label not in _NOT_GRID and _isolated(word, index):
            by_text.setdefault(label, []).append(_centre(word[:4]))
    width, height = page_size
    columns: dict[str, float] = {}
    rows: dict[str, float] = {}
    for label, points in by_text.items():
        for i, (ax, ay) in enumerate(points):
            for bx, by in points[i + 1 :]:
                if abs(ax - bx) < 6 and abs(ay - by) > 0.25 * height:
                    columns.setdefault(label, (ax + bx) / 2)
                elif abs(ay - by) < 6 and abs(ax - bx) > 0.25 * width:
                    rows.setdefault(label, (ay + by) / 2)
    # A grid has several lines; one or two pairs are more likely a coincidence of repeated words.
    return (columns if len(columns) >= 3 else {}), (rows if len(rows) >= 3 else {})


_BUCKET = 64.0  # points; words are bucketed so the isolation test looks at neighbours only


def _bucket_words(words: Sequence[WordTuple]) -> dict[tuple[int, int], list[WordTuple]]:
    buckets: dict[tuple[int, int], list[WordTuple]] = {}
    for word in words:
        cx, cy = _centre(word[:4])
        buckets.setdefault((int(cx // _BUCKET), int(cy // _BUCKET)), []).append(word)
    return buckets


def _isolated(word: WordTuple, buckets: Mapping[tuple[int, int], list[WordTuple]]) -> bool:
    """No other word within one character height of it: a bubble label, not a word inside a sentence."""
    x0, y0, x1, y1, _ = word
    if x1 - x0 > 60 or y1 - y0 > 60:
        return False
    gap = max(2.0, y1 - y0)
    cx, cy = _centre(word[:4])
    bx, by = int(cx // _BUCKET), int(cy // _BUCKET)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            for other in buckets.get((bx + dx, by + dy), ()):
                if other is not word and _distance((x0, y0, x1, y1), other[:4]) < gap:
                    return False
    return True


def _grid_position(value: float, lines: Mapping[str, float]) -> str:
    """ "C" when on a line (within 12 pt), "C–D" between two neighbours, "" when outside the grid."""
    ordered = sorted(lines.items(), key=lambda item: item[1])
    for label, position in ordered:
        if abs(position - value) <= 12:
            return label
    for (label_a, pos_a), (label_b, pos_b) in zip(ordered, ordered[1:], strict=False):
        if pos_a < value < pos_b:
            return f"{label_a}–{label_b}"
    return ""


def grid_reference(bbox: Sequence[float], columns: Mapping[str, float], rows: Mapping[str, float]) -> str:
    """ "grid C–D / 3–4" for a box inside the grid, "" when there is no grid around it."""
    cx, cy = _centre(bbox)
    along_x = _grid_position(cx, columns) if len(columns) >= 2 else ""
    along_y = _grid_position(cy, rows) if len(rows) >= 2 else ""
    parts = [p for p in (along_x, along_y) if p]
    return f"grid {' / '.join(parts)}" if parts else ""


def text_lines(words: Sequence[WordTuple]) -> list[WordTuple]:
    """Words joined into phrases: neighbours on one baseline with a gap under one character height."""
    ordered = sorted(words, key=lambda w: (round((w[1] + w[3]) / 2), w[0]))
    phrases: list[WordTuple] = []
    for x0, y0, x1, y1, text in ordered:
        if phrases:
            px0, py0, px1, py1, ptext = phrases[-1]
            height = max(1.0, y1 - y0)
            same_line = abs((py0 + py1) / 2 - (y0 + y1) / 2) < height / 2
            if same_line and 0 <= x0 - px1 < height:
                phrases[-1] = (px0, min(py0, y0), x1, max(py1, y1), f"{ptext} {text}")
                continue
        phrases.append((x0, y0, x1, y1, text))
    return phrases


def _distance(box: Sequence[float], other: Sequence[float]) -> float:
    dx = max(0.0, other[0] - box[2], box[0] - other[2])
    dy = max(0.0, other[1] - box[3], box[1] - other[3])
    return (dx * dx + dy * dy) ** 0.5


def nearest_label(bbox: Sequence[float], phrases: Sequence[WordTuple], own_text: set[str]) -> str:
    """The nearest phrase with letters (a room name, a tag) outside the change, within NEAR_LABEL_POINTS."""
    best: tuple[float, str] | None = None
    for phrase in phrases:
        text = str(phrase[4]).strip()
        letters = sum(ch.isalpha() for ch in text)
        upper = sum(ch.isupper() for ch in text)
        # Room names and tags are printed in capitals; lower-case words are prose of a note.
        if letters < 3 or upper < 0.6 * letters or len(text) > 40 or text in own_text or _GRID_LABEL.match(text):
            continue
        if _distance(bbox, phrase[:4]) == 0 and _overlap_ratio(phrase[:4], bbox) > 0.5:
            continue  # the changed words themselves
        d = _distance(bbox, phrase[:4])
        if d <= NEAR_LABEL_POINTS and (best is None or d < best[0]):
            best = (d, text)
    return best[1] if best else ""


def _overlap_ratio(box: Sequence[float], other: Sequence[float]) -> float:
    w = min(box[2], other[2]) - max(box[0], other[0])
    h = min(box[3], other[3]) - max(box[1], other[1])
    area = max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))
    return max(0.0, w) * max(0.0, h) / area


class SheetContext:
    """What is known about one NEW page's words, prepared once per sheet."""

    def __init__(self, page_size: Sequence[float] | None, words: Sequence[WordTuple] | None,
                 prepared: Mapping[str, Any] | None = None) -> None:
        self.page_size = page_size
        if prepared is not None:  # from location_context: the page's words were read where it was parsed
            self.columns, self.rows = dict(prepared.get("columns") or {}), dict(prepared.get("rows") or {})
            self.phrases = [tuple(p) for p in prepared.get("phrases") or []]
            return
        words = list(words or [])
        self.columns, self.rows = grid_lines(words, page_size) if words and page_size else ({}, {})
        self.phrases = text_lines(words)

    def location(self, change: Mapping[str, Any]) -> str:
        """ "top left, grid C–D / 3–4, near “MECHANICAL 104”" (parts present only when known)."""
        bbox = change["bbox"]
        parts = [region_name(bbox, self.page_size)]
        parts.append(grid_reference(bbox, self.columns, self.rows))
        own = {" ".join(change.get("text_added") or []), " ".join(change.get("text_removed") or [])}
        label = nearest_label(bbox, self.phrases, own)
        parts.append(f"near “{label}”" if label else "")
        return ", ".join(p for p in parts if p)


def location_context(words: Sequence[WordTuple], page_size: Sequence[float],
                     boxes: Sequence[Sequence[float]]) -> dict[str, Any]:
    """What `SheetContext.location` needs of a page's words for changes at `boxes`, small enough to store
    with the pair: the grid lines and the phrases near any of the boxes. The diff stage makes it while
    the page's words are at hand, so the summary need not parse the page again."""
    full = SheetContext(page_size, words)
    reach = NEAR_LABEL_POINTS + 1.0  # boxes are rounded in the report; keep a phrase at the boundary
    phrases = [list(p) for p in full.phrases if any(_distance(box, p[:4]) <= reach for box in boxes)]
    return {"columns": full.columns, "rows": full.rows, "phrases": phrases}


# ---------------------------------------------------------------- sheets and the whole set


def sheet_key(sheet: Mapping[str, Any], position: int) -> str:
    """The sheet number, or "page N" (1-based, NEW set; OLD when removed) when none was found."""
    if sheet.get("sheet_number"):
        return str(sheet["sheet_number"])
    page = sheet.get("new_page") if sheet.get("new_page") is not None else sheet.get("old_page")
    return f"page {page + 1}" if page is not None else f"sheet {position + 1}"


def sheet_keys(sheets: Sequence[Mapping[str, Any]]) -> list[str]:
    """Sheet keys, with " (2)", " (3)" appended when a number repeats in one set."""
    seen: Counter[str] = Counter()
    keys = []
    for i, sheet in enumerate(sheets):
        key = sheet_key(sheet, i)
        seen[key] += 1
        keys.append(key if seen[key] == 1 else f"{key} ({seen[key]})")
    return keys


def _words_for(words: Mapping[Any, Sequence[WordTuple]] | None, index: int, key: str) -> Sequence[WordTuple]:
    if not words:
        return []
    return words.get(index) or words.get(key) or []


def change_item(sheet: str, index: int, change: Mapping[str, Any], context: SheetContext) -> dict[str, Any]:
    """One change as a summary item (the same keys an LLM item has, plus the raw text and box)."""
    category = change_category(change)
    text = describe_text(change)
    location = context.location(change)
    direction = value_direction(change.get("text_removed") or [], change.get("text_added") or [])
    verb = category.replace("changed", direction) if direction else category  # "dimension increased"
    description = verb + (f" {text}" if text else "") + (f" ({location})" if location else "")
    return {
        "sheet": sheet,
        "index": index,  # position in the sheet's "changes"
        "change_id": change.get("id", index + 1),  # the report's 1-based id, as the change list shows it
        "kind": change.get("kind", "modified"),
        "title": category,
        "description": description,
        "location": location,
        "text_removed": list(change.get("text_removed") or []),
        "text_added": list(change.get("text_added") or []),
        "bbox": [round(float(v), 1) for v in change["bbox"]],
    }


def _kind_counts(changes: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = Counter(c.get("kind", "modified") for c in changes)
    return {kind: counts.get(kind, 0) for kind in KINDS}


def _counts_phrase(counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    if total == 0:
        return "no changes"
    parts = [f"{counts[k]} {k}" for k in KINDS if counts.get(k)]
    return f"{total} change{'s' if total != 1 else ''} ({', '.join(parts)})"


def _sheet_heading(key: str, sheet: Mapping[str, Any]) -> str:
    title = f" {sheet['title']}" if sheet.get("title") else ""
    status = sheet.get("status", "matched")
    if status == "added":
        return f"{key}{title}: sheet added in the new set."
    if status == "removed":
        return f"{key}{title}: sheet removed from the new set."
    counts = _kind_counts(sheet.get("changes") or [])
    renumbered = ""
    if sheet.get("renumbered") and sheet.get("old_sheet_number"):
        renumbered = f" Renumbered from {sheet['old_sheet_number']}."
    elif sheet.get("renumbered"):
        renumbered = " Renumbered."
    return f"{key}{title}: {_counts_phrase(counts)}.{renumbered}"


def _sheet_warnings(sheet: Mapping[str, Any]) -> list[str]:
    warnings = [str(w) for w in sheet.get("warnings") or []]
    confidence = (sheet.get("alignment") or {}).get("confidence")
    if confidence is not None and confidence < 0.6 and not warnings:
        warnings.append(f"low-confidence alignment ({confidence:.2f}): check the overlay")
    return warnings


def summarize_sheet(key: str, sheet: Mapping[str, Any], words: Sequence[WordTuple] | None,
                    prepared: Mapping[str, Any] | None = None) -> tuple[str, list]:
    """The text and the items of one sheet (`prepared`: its `location_context`, instead of words)."""
    context = SheetContext(sheet.get("page_size"), words, prepared)
    changes = sheet.get("changes") or []
    items = [change_item(key, i, change, context) for i, change in enumerate(changes)]
    lines = [_sheet_heading(key, sheet)]
    lines += [f"Warning: {w}." for w in _sheet_warnings(sheet)]
    lines += _cloud_lines(sheet)
    lines += [f"- {item['description']}" for item in items]
    return "\n".join(lines), items


def _cloud_lines(sheet: Mapping[str, Any]) -> list[str]:
    """The sheet's revision clouds with what changed inside them, and what changed outside every cloud
    (what the designer did not flag)."""
    clouds = sheet.get("clouds") or []
    if not clouds:
        return []
    lines = []
    for cloud in clouds:
        name = f"Revision cloud {cloud['tag']}" if cloud.get("tag") else "Revision cloud"
        status = " (removed)" if cloud.get("status") == "removed" else ""
        inner = cloud.get("changes") or []
        what = (f"{len(inner)} change{'s' * (len(inner) != 1)} inside ({_ids(inner)})" if inner
                else "nothing changed inside")
        lines.append(f"{name}{status}: {what}.")
    outside = sheet.get("changes_outside_clouds") or []
    if outside:
        lines.append(f"Outside any cloud: {len(outside)} change{'s' * (len(outside) != 1)} ({_ids(outside)}).")
    return lines


def _ids(ids: Sequence[int]) -> str:
    """"#1-3, #7": change ids in runs."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ", ".join(f"#{r[0]}" if len(r) == 1 else f"#{r[0]}-{r[-1]}" for r in runs)


def _set_headline(sheets: Sequence[Mapping[str, Any]], keys: Sequence[str], items: Sequence[dict]) -> str:
    status = Counter(s.get("status", "matched") for s in sheets)
    renumbered = [k for k, s in zip(keys, sheets, strict=True) if s.get("renumbered")]
    added = [k for k, s in zip(keys, sheets, strict=True) if s.get("status") == "added"]
    removed = [k for k, s in zip(keys, sheets, strict=True) if s.get("status") == "removed"]
    changed = Counter(item["sheet"] for item in items)
    lines = [
        f"{len(sheets)} sheet{'s' if len(sheets) != 1 else ''} compared: {status.get('matched', 0)} matched, "
        f"{status.get('added', 0)} added, {status.get('removed', 0)} removed, {len(renumbered)} renumbered."
    ]
    lines.append(f"In all {_counts_phrase(_kind_counts(items))}.")
    if changed:
        lines.append("Changed sheets: " + ", ".join(f"{k} ({changed[k]})" for k in keys if changed[k]) + ".")
    if added:
        lines.append("Sheets added: " + ", ".join(added) + ".")
    if removed:
        lines.append("Sheets removed: " + ", ".join(removed) + ".")
    if renumbered:
        lines.append("Sheets renumbered: " + ", ".join(renumbered) + ".")
    by_category = Counter(item["title"] for item in items)
    if by_category:
        lines.append("By type: " + ", ".join(f"{n} {c}" for c, n in sorted(by_category.items())) + ".")
    return " ".join(lines[:2]) + ("\n" + "\n".join(lines[2:]) if len(lines) > 2 else "")


def summarize_report(
    report: Mapping[str, Any], words: Mapping[Any, Sequence[WordTuple]] | None = None,
    contexts: Mapping[int, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The offline summary of a whole report (see the module docstring). Deterministic.

    `words` maps a sheet's position in report["sheets"] (int) or its sheet number (str) to the words of its
    NEW page, in NEW page points; `contexts` maps a position to the sheet's `location_context` instead.
    Sheets with neither get locations by region only.
    """
    sheets = list(report.get("sheets") or [])
    keys = sheet_keys(sheets)
    sheet_texts: dict[str, str] = {}
    items: list[dict[str, Any]] = []
    for index, (key, sheet) in enumerate(zip(keys, sheets, strict=True)):
        text, sheet_items = summarize_sheet(key, sheet, _words_for(words, index, key), (contexts or {}).get(index))
        sheet_texts[key] = text
        items += sheet_items
    headline = _set_headline(sheets, keys, items)
    body = [sheet_texts[k] for k, s in zip(keys, sheets, strict=True) if s.get("status") != "matched"
            or s.get("changes") or _sheet_warnings(s)]
    return {
        "source": "offline",
        "version": SUMMARY_VERSION,
        "text": "\n\n".join([headline, *body]),
        "sheets": sheet_texts,
        "items": items,
        "counts": {"sheets": dict(Counter(s.get("status", "matched") for s in sheets)),
                   "changes": _kind_counts(items)},
    }


def render_summary(summary: Mapping[str, Any], markdown: bool = False) -> str:
    """Plain text (or Markdown) of a summary dict, offline or LLM: the overall text, then each sheet."""
    source = summary.get("source", "offline")
    heading = "Summary of changes" + ("" if source == "offline" else f" (by {source})")
    out = [f"## {heading}" if markdown else heading, "", str(summary.get("text", "")).strip()]
    if source != "offline":  # an LLM summary's text is short; its sheets hold the details
        for key, text in (summary.get("sheets") or {}).items():
            out += ["", f"### {key}" if markdown else f"{key}:", str(text).strip()]
    return "\n".join(out).rstrip() + "\n"
