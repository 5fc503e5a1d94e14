"""Pair an old drawing set's sheets with a new one's, on all the evidence, in one global assignment.

Evidence for a pair: the sheet numbers (each sheet's few readings, compared with an OCR-aware distance so
that O/0, I/1, S/5 and B/8 slips cost little; a scan's title-block words searched for the other set's
number), the titles, the looks (thumbnails), the page size, and the order in the set as a weak prior.
A reading that repeats on most sheets of a set (a contract or project number) is no sheet number there.

Sheets whose best readings agree one to one are paired at once (nearly every sheet of a real set); the
rest are scored against each other and paired by an optimal assignment, never below a floor of evidence.
Every pairing carries a confidence and, where the readings disagree, a note that says what was read.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from buildtrace_desktop.processing.assignment import best_pairs
from buildtrace_desktop.processing.looks import thumbnail_similarity
from buildtrace_desktop.processing.numbers import (
    find_in_words,
    normalize_number,
    normalize_title,
    number_similarity,
    shape,
    skeleton,
)
from buildtrace_desktop.processing.types import SheetInfo, SheetMatch

Thumbnailer = Callable[[str, int], list[list[int]] | None]
# (side, set index, [(box in points, height of the text looked for, points)]) -> words read
Rereader = Callable[[str, int, list[tuple[tuple[float, float, float, float], float]]], list[str]]

PROMINENT = 0.25  # a reading weighing this much beside the sheet's best is printed as a sheet's own
PAIR_FLOOR = 2.0  # the score a pair needs (about: two pieces of good evidence)


# --- readings -------------------------------------------------------------------------------------------


@dataclass
class _Reading:
    """One sheet as matching sees it."""

    info: SheetInfo
    candidates: list[tuple[str, float]]  # (reading, weight), best first, after the set-wide check
    ocr: bool  # read by Tesseract: its readings may carry slips
    title: str | None  # normalised, None when the set repeats it (a firm's name, a project's)

    @property
    def number(self) -> str | None:
        return self.candidates[0][0] if self.candidates else None

    @property
    def confident(self) -> bool:
        """A clean text-layer (or user's) reading that no other sheet of its set shares."""
        return not self.ocr and bool(self.candidates) and self.candidates[0][1] >= 0.9


def readings(infos: list[SheetInfo]) -> list[_Reading]:
    """Each sheet's readings, with those that most of the set shares (a contract number on every sheet,
    a logo for a title) passed over: a sheet number and a title belong to one sheet."""
    raw = [_candidates(info) for info in infos]
    crowd = max(2, math.ceil(0.8 * len(infos)))  # "most": a contract number sits on every sheet
    seen = defaultdict(int)
    for cands in raw:  # prominent readings only: every sheet may refer to another ("SEE TSDE02")
        for key in {skeleton(text) for text, weight in cands if weight >= PROMINENT}:
            seen[key] += 1
    titles = defaultdict(int)
    for info in infos:
        titles[normalize_title(info.title)] += 1
    out = []
    for info, cands in zip(infos, raw, strict=True):
        if len(infos) >= 2:
            kept = [(t, w) for t, w in cands if seen[skeleton(t)] < crowd or info.number_source == "user"]
            cands = kept or [(t, 0.2 * w) for t, w in cands]
            top = max((w for _t, w in cands), default=1.0)
            cands = [(t, round(w / top, 4) if kept else w) for t, w in cands]
        title = normalize_title(info.title)
        if len(infos) >= 2 and titles[title] >= crowd:
            title = None
        read_by_ocr = info.number_source == "ocr" or (not info.has_text_layer and info.number_source != "user")
        out.append(_Reading(info, cands, read_by_ocr, title))
    return out


def _candidates(info: SheetInfo) -> list[tuple[str, float]]:
    if info.number_source == "user" or not info.number_candidates:
        return [(info.sheet_number, 1.0)] if info.sheet_number else []
    return [(str(c[0]), float(c[1])) for c in info.number_candidates]


# --- evidence -------------------------------------------------------------------------------------------


@dataclass
class _Evidence:
    score: float
    number: float  # 0..1: how well the numbers agree
    readings: tuple[str | None, str | None]  # the old and new readings that agree best
    looks: float | None
    method: str


def _number_agreement(o: _Reading, n: _Reading) -> tuple[float, tuple[str | None, str | None]]:
    best, pair = 0.0, (o.number, n.number)
    fuzzy = o.ocr or n.ocr  # a text layer does not slip: are two sheets
    for co, wo in o.candidates:
        for cn, wn in n.candidates:
            sim = 1.0 if skeleton(co) == skeleton(cn) else number_similarity(co, cn) if fuzzy else 0.0
            if sim >= 0.7 and sim * math.sqrt(wo * wn) > best:
                best, pair = sim * math.sqrt(wo * wn), (co, cn)
    # A scan's own readings can miss; its title block may still show the other sheet's number.
    for scan, ref in ((n, o), (o, n)):
        if scan.ocr and ref.number and not ref.ocr and scan.info.ocr_words:
            found = 0.95 * find_in_words(ref.number, scan.info.ocr_words) * ref.candidates[0][1]
            if found >= 0.6 and found > best:
                best, pair = found, (ref.number, ref.number)  # the scan shows the other sheet's number
    return best, pair


def _evidence(o: _Reading, n: _Reading, old_count: int, new_count: int,
              looks: float | None) -> _Evidence:
    number, agreeing = _number_agreement(o, n)
    terms = {"number": 4.0 * number}
    if o.title and n.title:
        a, b = set(o.title.split()), set(n.title.split())
        terms["title"] = 1.5 * len(a & b) / max(1, len(a | b))
    if looks is not None:
        terms["visual"] = float(np.clip(8.0 * (looks - 0.55), -3.0, 3.5))
    score = sum(terms.values())
    (ow, oh), (nw, nh) = o.info.page_size, n.info.page_size
    if ow > 0 and nw > 0:
        ra, rb = ow / max(oh, 1e-6), nw / max(nh, 1e-6)
        if abs(ra - rb) / max(ra, rb) > 0.1:
            score -= 4.0  # a sheet is not re-issued on paper of another shape
        elif abs(ow - nw) / max(ow, nw) < 0.02:
            score += 0.5
    # Order in the set: a weak prior, for ties (copies of one sheet, sheets without any reading).
    offset = abs(o.info.set_index / max(1, old_count) - n.info.set_index / max(1, new_count)) * max(old_count, new_count)
    score += 0.6 * math.exp(-offset / 2.0)
    if o.confident and n.confident and number < 0.5:
        score -= 2.5  # two clean readings that differ: different sheets, unless they look the same
    method = max(terms, key=terms.get) if terms else "visual"
    return _Evidence(score, number, agreeing, looks, method)


# --- pairing --------------------------------------------------------------------------------------------

FULL_MATRIX_SIDE = 60  # leftovers up to this many a side are scored all against all
SHORTLIST = 3  # readings per sheet compared in the assignment (the best few carry the evidence)


def match_sheets(old: list[SheetInfo], new: list[SheetInfo], thumbnail: Thumbnailer | None = None,
                 reread: Rereader | None = None) -> list[SheetMatch]:
    """Pair old and new sheets on all the evidence; the rest are removed / added.

    `thumbnail(side, set_index)` ("old" / "new") makes the thumbnail of a sheet that is compared by looks
    and has none; it is stored in the sheet's `thumbnail`. `reread(side, set_index, boxes)` OCRs a page
    read by OCR again, in the given boxes (points), where the other set prints its numbers; the words
    join the sheet's `ocr_words`."""
    old_r, new_r = readings(old), readings(new)
    if reread is not None:
        _read_where_the_other_set_prints_numbers(old_r, new_r, reread)
    matches: list[SheetMatch] = []
    taken_old, taken_new = set(), set()
    for o, n, copies in _agreeing(old_r, new_r):
        ev = _evidence(o, n, len(old), len(new), None)
        confidence = 0.99 if o.confident and n.confident else 0.9
        note = (f"{copies} sheets read {o.number} in each set: paired in set order" if copies > 1 else None)
        matches.append(_matched(o, n, ev, 0.75 if copies > 1 else confidence, note))
        taken_old.add(o.info.set_index)
        taken_new.add(n.info.set_index)
    left_old = [r for r in old_r if r.info.set_index not in taken_old]
    left_new = [r for r in new_r if r.info.set_index not in taken_new]
    matches += _assigned(left_old, left_new, len(old), len(new), thumbnail)
    paired_old = {m.old_index for m in matches}
    paired_new = {m.new_index for m in matches}
    matches += [SheetMatch("removed", r.info.set_index, None, "only", old_number=r.number)
                for r in old_r if r.info.set_index not in paired_old]
    matches += [SheetMatch("added", None, r.info.set_index, "only", new_number=r.number)
                for r in new_r if r.info.set_index not in paired_new]
    return matches


def _agreeing(old_r: list[_Reading], new_r: list[_Reading]):
    """(old, new, copies) for sheets whose best readings agree one to one; a number that k sheets of
    each set share (copies) pairs them in set order."""
    def groups(rs: list[_Reading]) -> dict[str, list[_Reading]]:
        out: dict[str, list[_Reading]] = defaultdict(list)
        for r in rs:
            if r.candidates and r.candidates[0][1] >= 0.5:
                out[skeleton(r.number)].append(r)
        return out

    old_g, new_g = groups(old_r), groups(new_r)
    for key in sorted(set(old_g) & set(new_g), key=lambda k: old_g[k][0].info.set_index):
        if key and len(old_g[key]) == len(new_g[key]):
            for o, n in zip(old_g[key], new_g[key], strict=True):
                yield o, n, len(old_g[key])


REREAD_BOXES = 3  # places a scan is read again at: the other set's number boxes, most common first


def _read_where_the_other_set_prints_numbers(old_r: list[_Reading], new_r: list[_Reading],
                                             reread: Rereader) -> None:
    """A scan whose readings agree with no sheet of the other set is read again where that set's text
    layer puts its numbers: sparse-text OCR of a whole title block misses a number that OCR of its own
    box reads (the scan sits within a few points of the same place on a sheet of the same size)."""
    for side, scans, refs in (("new", new_r, old_r), ("old", old_r, new_r)):
        numbers = {skeleton(r.number) for r in refs if r.number and not r.ocr}
        boxes: dict[tuple[int, int, int, int], int] = defaultdict(int)
        heights: dict[tuple[int, int, int, int], float] = {}
        for r in refs:
            if r.number and not r.ocr and r.info.number_candidates:
                box = r.info.number_candidates[0][2]
                key = tuple(int(round(v / 50.0)) for v in box)
                boxes[key] += 1
                heights[key] = box[3] - box[1]
        if not boxes:
            continue
        common = sorted(boxes, key=lambda k: -boxes[k])[:REREAD_BOXES]
        ref_size = next(r.info.page_size for r in refs if r.number and not r.ocr)
        for scan in scans:
            if not scan.ocr or any(skeleton(t) in numbers for t, _w in scan.candidates):
                continue
            sx, sy = scan.info.page_size[0] / max(1.0, ref_size[0]), scan.info.page_size[1] / max(1.0, ref_size[1])
            grow = 0.02 * max(scan.info.page_size)  # a scan's shift and skew, and the box's own slack
            regions = [((k[0] * 50.0 * sx - grow, k[1] * 50.0 * sy - grow, k[2] * 50.0 * sx + grow,
                         k[3] * 50.0 * sy + grow), heights[k] * sy) for k in common]
            words = reread(side, scan.info.set_index, regions)
            if words:
                scan.info.ocr_words = list(scan.info.ocr_words) + list(words)


def _assigned(left_old: list[_Reading], left_new: list[_Reading], old_count: int, new_count: int,
              thumbnail: Thumbnailer | None) -> list[SheetMatch]:
    """The sheets the readings did not pair at once, paired by an optimal assignment on their scores."""
    if not left_old or not left_new:
        return []
    pairs = _candidate_pairs(left_old, left_new)
    looks_needed = [(i, j) for i, j in pairs if _number_agreement(_short(left_old[i]), _short(left_new[j]))[0] < 0.9
                    and _sameshape(left_old[i].info.page_size, left_new[j].info.page_size)]
    if thumbnail is not None:
        for side, rs, idx in (("old", left_old, {i for i, _ in looks_needed}),
                              ("new", left_new, {j for _, j in looks_needed})):
            for k in idx:
                if rs[k].info.thumbnail is None:
                    rs[k].info.thumbnail = thumbnail(side, rs[k].info.set_index)
    needs = set(looks_needed)
    scores = np.full((len(left_old), len(left_new)), -np.inf)
    evidence: dict[tuple[int, int], _Evidence] = {}
    for i, j in pairs:
        o, n = left_old[i], left_new[j]
        looks = None
        if (i, j) in needs and o.info.thumbnail and n.info.thumbnail:
            looks = thumbnail_similarity(o.info.thumbnail, n.info.thumbnail, registered=o.ocr or n.ocr)
        ev = _evidence(_short(o), _short(n), old_count, new_count, looks)
        evidence[(i, j)] = ev
        scores[i, j] = ev.score
    out = []
    for i, j in best_pairs(scores, PAIR_FLOOR):
        ev = evidence[(i, j)]
        rivals = np.concatenate([np.delete(scores[i], j), np.delete(scores[:, j], i)])
        margin = ev.score - (float(rivals.max()) if rivals.size and np.isfinite(rivals.max()) else PAIR_FLOOR - 2.0)
        confidence = 1.0 / (1.0 + math.exp(-(ev.score - PAIR_FLOOR - 1.0)))
        confidence *= min(1.0, 0.6 + 0.2 * max(0.0, margin))
        out.append(_matched(left_old[i], left_new[j], ev, round(confidence, 2), None))
    return out


def _short(r: _Reading) -> _Reading:
    return _Reading(r.info, r.candidates[:SHORTLIST], r.ocr, r.title)


def _candidate_pairs(left_old: list[_Reading], left_new: list[_Reading]) -> list[tuple[int, int]]:
    """Every pair when the leftovers are few; else the pairs that share a reading's key or a title, or
    sit at about the same place in their sets."""
    if len(left_old) <= FULL_MATRIX_SIDE and len(left_new) <= FULL_MATRIX_SIDE:
        return [(i, j) for i in range(len(left_old)) for j in range(len(left_new))]
    index: dict[str, set[int]] = defaultdict(set)
    for j, r in enumerate(left_new):
        for text, _w in r.candidates[:SHORTLIST]:
            index["n:" + skeleton(text)].add(j)
        if r.title:
            index["t:" + r.title].add(j)
    pairs = set()
    for i, r in enumerate(left_old):
        keys = ["n:" + skeleton(t) for t, _w in r.candidates[:SHORTLIST]] + (["t:" + r.title] if r.title else [])
        for key in keys:
            pairs.update((i, j) for j in index.get(key, ()))
        centre = round(i * len(left_new) / len(left_old))
        pairs.update((i, j) for j in range(max(0, centre - 2), min(len(left_new), centre + 3)))
    return sorted(pairs)


def _sameshape(a: tuple[float, float], b: tuple[float, float]) -> bool:
    ra, rb = a[0] / max(a[1], 1e-6), b[0] / max(b[1], 1e-6)
    return abs(ra - rb) / max(ra, rb) < 0.1


def _matched(o: _Reading, n: _Reading, ev: _Evidence, confidence: float, note: str | None) -> SheetMatch:
    """A matched pair with its numbers read in the light of both sets: a scan's number and title shown
    as the other set reads them when it shows the same sheet; a clean different reading stays a
    renumbering."""
    old_number, new_number = ev.readings if ev.number >= 0.6 else (o.number, n.number)
    old_title, new_title = o.info.title, n.info.title
    notes = [note] if note else []
    for scan, ref, scan_is_new in ((n, o, True), (o, n, False)):
        if not scan.ocr or ref.ocr or not ref.number:
            continue
        own = scan.number
        # A renumbered scan shows another number where the other sheet shows its own: printed alike
        # (the set's pattern, a sheet number's size), not an address or a room number read instead.
        renumbered = (ev.number < 0.6 and own is not None and scan.candidates[0][1] >= 0.9
                      and shape(own) == shape(ref.number) and number_similarity(own, ref.number) <= 0.5
                      and _printed_alike(scan, ref)
                      and find_in_words(ref.number, scan.info.ocr_words) < 0.6)
        if renumbered:
            continue
        side = "new" if scan_is_new else "old"
        if skeleton(own or "") != skeleton(ref.number):
            how = "its title block shows " + ref.number if ev.number >= 0.6 else f"by {_METHOD_WORDS[ev.method]}"
            notes.append(f"read {own or 'no number'} on the {side} scan, paired with {ref.number} ({how}), "
                         f"confidence {confidence:.2f}")
        if scan_is_new:
            new_number, new_title = ref.number, ref.info.title or new_title
        else:
            old_number, old_title = ref.number, ref.info.title or old_title
    if confidence < 0.7 and not notes:
        notes.append(f"paired by {_METHOD_WORDS[ev.method]} with confidence {confidence:.2f}: check the pairing")
    renumbered = bool(old_number and new_number) and normalize_number(old_number) != normalize_number(new_number)
    method = "number" if ev.number >= 0.6 else ev.method
    return SheetMatch("matched", o.info.set_index, n.info.set_index, method, renumbered, confidence,
                      old_number, new_number, old_title, new_title, notes)


def _printed_alike(a: _Reading, b: _Reading) -> bool:
    """Whether the two sheets' best readings are set at about the same height."""
    def height(r: _Reading) -> float | None:
        found = [c for c in r.info.number_candidates if str(c[0]) == r.number]
        return float(found[0][2][3] - found[0][2][1]) if found and len(found[0]) > 2 else None

    ha, hb = height(a), height(b)
    return ha is None or hb is None or 0.6 <= ha / max(hb, 1e-6) <= 1.67


_METHOD_WORDS = {"number": "number", "title": "title", "visual": "looks"}
