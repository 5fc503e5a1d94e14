"""What a change is, in a reviewer's words: "note added", "dimension changed", "line work removed",
"revision cloud added" ... (the vocabulary of eval/REPORT_FORMAT.md, and a few more where they fit).

Decided from what the diff measured (added and removed ink), the words that changed, and whether the
change is a revision cloud; no page access.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from buildtrace_desktop.processing.types import Change

_DIMENSION = re.compile(r"^[\d'\"\-/ .,½¼¾⅛⅜⅝⅞±xX×°]*\d[\d'\"\-/ .,½¼¾⅛⅜⅝⅞±xX×°]*(mm|cm|m|in|ft)?$")
# A word led by a number is a measure or a value ("331D", "12'-6\"", "1."); a word led by letters is a
# name or a tag ("PT-2", "A-501").
_VALUE_WORD = re.compile(r"^[(\[]?[\d.]")


def is_dimension(words: Sequence[str]) -> bool:
    """True for dimension strings such as 167, 3'-1", 7/8", 1'-6 1/2"."""
    text = " ".join(words).strip()
    return bool(text) and bool(_DIMENSION.match(text))


def _values(words: Sequence[str]) -> bool:
    return bool(words) and all(_VALUE_WORD.match(w) for w in words)


def is_value(word: str) -> bool:
    """A dimension or a value led by its number ("9/4\"", "1-132", "331D")."""
    return is_dimension([word]) or _values([word])


def what_of(kind: str, text_removed: Sequence[str], text_added: Sequence[str], cloud: str | None = None) -> str:
    """`cloud` is "added" / "removed" for a revision cloud's own change."""
    if cloud:
        return f"revision cloud {cloud}"
    if text_removed and text_added:
        if (is_dimension(text_removed) and is_dimension(text_added)) or (_values(text_removed) and _values(text_added)):
            return "dimension changed"
        return "text changed"
    if text_added:
        if is_dimension(text_added):
            return "dimension added"
        return "note added" if kind != "removed" else "text added"
    if text_removed:
        # New ink where the words were: they were replaced, though the new words did not read (a scan)
        replaced = kind == "modified"
        if is_dimension(text_removed) or _values(text_removed):
            return "dimension changed" if replaced else "dimension removed"
        return "text changed" if replaced else "text removed"
    return {"added": "line work added", "removed": "line work removed"}.get(kind, "line work changed")


def describe(change: Change) -> str:
    cloud = change.what.removeprefix("revision cloud ") if change.what.startswith("revision cloud") else None
    return what_of(change.kind, change.text_removed, change.text_added, cloud)
