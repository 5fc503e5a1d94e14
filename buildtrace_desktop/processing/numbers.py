"""Sheet numbers as OCR and people write them: normal forms, an OCR-aware distance, a search in OCR'd
words. O/0, I/1, S/5 and B/8 slips cost a quarter of a wrong character; stray marks less."""
from __future__ import annotations

import math
import re

import numpy as np

# Characters OCR takes for one another; a slip within a group costs a quarter of a wrong character.
_CONFUSABLE_GROUPS = ("O0QD", "I1L|!J/", "S5", "B8", "Z2", "G6")
_GROUP_OF = {c: k for k, group in enumerate(_CONFUSABLE_GROUPS) for c in group}
_REPRESENTATIVE = {c: next(d for d in group if d.isdigit()) for group in _CONFUSABLE_GROUPS for c in group}
SLIP_COST = 0.25
NOISE_COST = 0.3  # a stray mark inside a reading: "-", ".", "/", a space


def normalize_number(number: str | None) -> str | None:
    """A-101 = A101 = A 101 = a-1O1: letters up to the first digit kept, OCR slips after it mended."""
    if not number:
        return None
    t = re.sub(r"[^A-Z0-9|]", "", number.upper())
    match = re.search(r"\d", t)
    if match is None:
        return t.replace("O", "0") or None
    head, tail = t[: match.start()], t[match.start():]
    tail = re.sub(r"[OI|](?=\d|$)|(?<=\d)[OI|]", lambda m: m.group(0).translate(_DIGIT_SLIPS), tail)
    head = head.replace("O", "0")
    if len(head) >= 2 and head.endswith("I"):  # "E-I01": an I right before the digits is a 1
        head = head[:-1] + "1"
    return (head + tail) or None


_DIGIT_SLIPS = str.maketrans({"O": "0", "I": "1", "|": "1"})


def normalize_title(title: str | None) -> str | None:
    if not title:
        return None
    return re.sub(r"[^A-Z0-9]+", " ", title.upper()).strip() or None


def skeleton(text: str) -> str:
    """A reading with its confusable characters merged (each to its group's digit): the key under which
    slips meet. "TSDE02" -> "T50E02"."""
    return "".join(_REPRESENTATIVE.get(c, c) for c in re.sub(r"[^A-Z0-9]", "", text.upper()))


def number_similarity(a: str, b: str) -> float:
    """1 - the OCR-aware edit distance of two readings over the longer one's length (alphanumerics only)."""
    a, b = re.sub(r"[^A-Z0-9]", "", a.upper()), re.sub(r"[^A-Z0-9]", "", b.upper())
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [float(i)] + [0.0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + _substitution(ca, cb))
        prev = cur
    return max(0.0, 1.0 - prev[-1] / max(len(a), len(b)))


def _substitution(a: str, b: str) -> float:
    if a == b:
        return 0.0
    group = _GROUP_OF.get(a)
    return SLIP_COST if group is not None and group == _GROUP_OF.get(b) else 1.0


def find_in_words(needle: str, words: list[str]) -> float:
    """How well `needle` (a sheet number) reads somewhere in OCR'd words: 1 - the cheapest OCR-aware edit
    distance of it to any stretch of their text, over its length. Finds "TSDE02" in a file name read as
    'wadotid0637892lXL5105-PS-TSDE02-2B.dgn' and "A711" in "A/11"."""
    target = re.sub(r"[^A-Z0-9]", "", needle.upper())
    hay = "".join(c for c in " ".join(words).upper() if c.isalnum() or c in " -./|")
    if not target or not hay:
        return 0.0
    codes = np.frombuffer(hay.encode("latin-1", "replace"), np.uint8)
    groups = np.array([_GROUP_OF.get(chr(c), -1) for c in range(256)])[codes]
    # A stray mark inside the stretch costs little; another letter costs a whole character.
    skip = np.where(np.isin(codes, np.frombuffer(b" -./|", np.uint8)), NOISE_COST, 1.0)
    cum_skip = np.concatenate([[0.0], np.cumsum(skip)])
    row = np.zeros(len(hay) + 1)  # the match may start anywhere
    for ch in target:
        group = _GROUP_OF.get(ch, -2)
        sub = np.where(codes == ord(ch), 0.0, np.where(groups == group, SLIP_COST, 1.0))
        diagonal = np.concatenate([[math.inf], row[:-1] + sub])  # this character read, maybe wrongly
        gap = row + 1.0  # this character missing from the words
        best = np.minimum(diagonal, gap)
        best[0] = row[0] + 1.0
        # extra characters of the words inside the stretch: a running minimum over skip costs
        row = np.minimum.accumulate(best - cum_skip) + cum_skip
    return max(0.0, 1.0 - float(row.min()) / len(target))


def shape(number: str) -> str:
    """A number's pattern: "AF101" -> "AA999". A renumbered sheet keeps its set's pattern."""
    return re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", re.sub(r"[^A-Z0-9]", "", number.upper())))
