"""Words of one line of text changed together are one change.

The diff groups changed ink by a distance in points (7 pt), which holds words of drawing text (2-12 pt)
together but splits a line of large text (a title 60 pt high, with gaps of 25 pt between its words) into
a change per word. A reviewer reads "LILY HALL TEACHING removed" as one thing: changes with text, of the
same kind, side by side on one line with a gap under their own height, are joined.
"""
from __future__ import annotations

from buildtrace_desktop.processing.types import Change

SAME_LINE = 0.6  # vertical overlap over the smaller height: the two sit on one line
SAME_SIZE = 1.5  # heights within this factor: the same text size
WORD_GAP = 1.2  # horizontal gap over the smaller height: a gap between words, not between columns


def join_text_lines(changes: list[Change]) -> list[Change]:
    """`changes` with the text changes that continue one another along a line joined (boxes united, words
    in reading order). Revision clouds and changes without words stay as they are."""
    out: list[Change] = []
    for change in sorted(changes, key=lambda c: (c.bbox[0], c.bbox[1])):
        partner = next((o for o in out if _continues(o, change)), None) if _has_text(change) else None
        if partner is None:
            out.append(change)
        else:
            out[out.index(partner)] = _joined(partner, change)
    order = {id(c): i for i, c in enumerate(changes)}
    return sorted(out, key=lambda c: order.get(id(c), len(order)))


def _has_text(c: Change) -> bool:
    return bool(c.text_removed or c.text_added) and not c.what.startswith("revision cloud")


def _continues(left: Change, right: Change) -> bool:
    """Whether `right` continues `left` on the same line of text of the same size."""
    if not _has_text(left) or left.kind != right.kind:
        return False
    ha, hb = left.bbox[3] - left.bbox[1], right.bbox[3] - right.bbox[1]
    low = min(ha, hb)
    if low <= 0 or max(ha, hb) > SAME_SIZE * low:
        return False
    overlap = min(left.bbox[3], right.bbox[3]) - max(left.bbox[1], right.bbox[1])
    gap = right.bbox[0] - left.bbox[2]
    return overlap >= SAME_LINE * low and -0.5 * low <= gap <= WORD_GAP * low


def _joined(a: Change, b: Change) -> Change:
    """One change of both (a left of b); the kept object is `a`, so that its place in the list stays."""
    a.bbox = (min(a.bbox[0], b.bbox[0]), min(a.bbox[1], b.bbox[1]), max(a.bbox[2], b.bbox[2]), max(a.bbox[3], b.bbox[3]))
    a.area += b.area
    a.added_px += b.added_px
    a.removed_px += b.removed_px
    a.text_removed = a.text_removed + b.text_removed
    a.text_added = a.text_added + b.text_added
    return a
