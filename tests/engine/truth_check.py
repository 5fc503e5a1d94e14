"""Check an engine result against a truth file, by the rules of ../shared/eval/score.py.

The scorer itself lives outside the repository (it may be absent on a fresh clone); the corpus tests
run it as it is. This mirror of its rules lets the self-contained tests check the bundled sample.
"""
from __future__ import annotations

import re

TOL = 6.0


def _area(b) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _inter(a, b) -> float:
    return _area([max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])])


def _grow(b, t=TOL):
    return [b[0] - t, b[1] - t, b[2] + t, b[3] + t]


def _words(ws) -> list[str]:
    return [t for w in ws or [] for t in re.split(r"\s+", str(w).upper().strip()) if t]


def score_sheet(reported: list[dict], truth: list[dict]) -> dict[str, float]:
    """recall, precision, kind and text ratios for one sheet's changes (dicts with bbox, kind, text_*)."""
    found = kind_ok = text = text_ok = correct = 0
    grown = [_grow(c["bbox"]) for c in truth]
    for p in reported:
        inside = sum(_inter(p["bbox"], g) for g in grown)  # boxes of one sheet's truth rarely overlap
        if inside >= 0.5 * _area(p["bbox"]):
            correct += 1
    for c in truth:
        hits = [p for p in reported if _inter(_grow(p["bbox"]), c["bbox"]) >= _area(c["bbox"]) / 3]
        if hits:
            found += 1
            kind_ok += any(p["kind"] == c["kind"] for p in hits)
        want_add, want_rem = _words(c.get("text_added")), _words(c.get("text_removed"))
        if want_add or want_rem:
            text += 1
            got_add = " ".join(_words(sum((p.get("text_added") or [] for p in hits), [])))
            got_rem = " ".join(_words(sum((p.get("text_removed") or [] for p in hits), [])))
            text_ok += all(w in got_add for w in want_add) and all(w in got_rem for w in want_rem)
    return {
        "recall": found / len(truth) if truth else 1.0,
        "precision": correct / len(reported) if reported else 1.0,
        "kind": kind_ok / found if found else 1.0,
        "text": text_ok / text if text else 1.0,
    }
