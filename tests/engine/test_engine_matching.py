"""Sheet identity from all the evidence: OCR-aware numbers, the set-wide check, cross-reading a scan's
title block for the other set's numbers, looks, and one optimal assignment."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from buildtrace_desktop.processing import matching
from buildtrace_desktop.processing.assignment import best_pairs
from buildtrace_desktop.processing.numbers import find_in_words, number_similarity, skeleton
from buildtrace_desktop.processing.types import SheetInfo

BOX = [2950.0, 1200.0, 2989.0, 1210.0]  # where the title block prints the number


def picture(seed: int) -> list[list[int]]:
    """A distinct 64 x 44 'drawing' per seed: random strokes on white."""
    rng = np.random.default_rng(seed)
    img = np.full((44, 64), 255, np.uint8)
    for _ in range(12):
        y, x = rng.integers(2, 42), rng.integers(2, 50)
        img[y, x:x + rng.integers(4, 14)] = 0
        img[rng.integers(2, 30):, rng.integers(2, 62)][: rng.integers(3, 12)] = 0
    return img.tolist()


def vector(i: int, number: str, *others: tuple[str, float], look: int | None = None) -> SheetInfo:
    candidates = [[number, 1.0, BOX], *[[t, w, [100.0, 100.0, 140.0, 110.0]] for t, w in others]]
    return SheetInfo(i, number, None, "text", (3024.0, 1296.0), True, picture(look if look is not None else i),
                     number_candidates=candidates)


def scan(i: int, read: str | None, words: list[str], look: int) -> SheetInfo:
    candidates = [[read, 1.0, [2326.0, 1242.0, 2361.0, 1252.0]]] if read else []
    return SheetInfo(i, read, None, "ocr" if read else None, (3024.0, 1296.0), False, picture(look),
                     number_candidates=candidates, ocr_words=words)


def pairs(matches) -> dict:
    return {(m.old_index, m.new_index): m for m in matches if m.status == "matched"}


def test_ocr_slips_cost_little_and_real_differences_a_lot() -> None:
    assert number_similarity("A-1O1", "A101") >= 0.9 and number_similarity("A-101", "a101") == 1.0
    assert number_similarity("A711", "A/11") >= 0.7  # a 7 read as a slash
    assert number_similarity("TSDE04", "ITSDE04") >= 0.8  # a box edge read as an I
    assert number_similarity("E221", "E222") <= 0.75
    assert skeleton("TSDE02") != skeleton("TSDE04") and skeleton("A-1O1") == skeleton("A101")


def test_a_number_is_found_inside_ocr_debris() -> None:
    words = ["wadotid0637892lXL5105-PS-TSDE02-2B.dgn", "12/31/2024", "SR", "167"]
    assert find_in_words("TSDE02", words) >= 0.9
    assert find_in_words("TSDE03", words) < find_in_words("TSDE02", words)
    assert find_in_words("AF101", ["MAY", "22,", "2020"]) < 0.5


def test_a_reading_on_every_sheet_of_a_set_is_no_sheet_number() -> None:
    # The contract number is set larger than the sheet number on every sheet of the set.
    sheets = [SheetInfo(i, "XL5105", None, "text", (3024.0, 1296.0), True, None,
                        number_candidates=[["XL5105", 1.0, BOX], [f"TSDE0{i + 1}", 0.6, BOX]]) for i in range(4)]
    assert [r.number for r in matching.readings(sheets)] == ["TSDE01", "TSDE02", "TSDE03", "TSDE04"]
    # A reference to another sheet inside the drawing ("SEE TSDE02") is not the crowd.
    sheets[0].number_candidates.append(["TSDE02", 0.05, BOX])
    assert matching.readings(sheets)[1].number == "TSDE02"


def test_scans_that_read_the_contract_number_are_paired_and_shown_with_the_old_numbers() -> None:
    old = [vector(i, f"TSDE0{i + 1}", ("XL5105", 0.5)) for i in range(4)]
    new = [scan(i, "XL5105", ["c:\\users\\cchan\\pw_wsdot\\d0637892\\XL5105-PS-" + f"TSDE0{i + 1}" + "-2B.dgn"], i)
           for i in (2, 0, 3, 1)]
    for i, info in enumerate(new):
        info.set_index = i
    matches = pairs(matching.match_sheets(old, new))
    assert set(matches) == {(2, 0), (0, 1), (3, 2), (1, 3)}
    assert all(m.new_number == m.old_number for m in matches.values())
    assert not any(m.renumbered for m in matches.values())


def test_a_scan_with_no_reading_is_paired_by_looks_with_a_note() -> None:
    old = [vector(0, "E201A")]
    new = [scan(0, None, [], look=0)]
    [m] = matching.match_sheets(old, new)
    assert (m.status, m.method, m.new_number) == ("matched", "visual", "E201A")
    assert m.notes and "no number" in m.notes[0] and "E201A" in m.notes[0]


def test_two_different_drawings_are_not_paired_by_size_alone() -> None:
    old = [vector(0, "A101", look=1)]
    new = [scan(0, None, [], look=7)]
    assert sorted(m.status for m in matching.match_sheets(old, new)) == ["added", "removed"]


def test_the_scan_is_read_again_where_the_other_set_prints_its_numbers() -> None:
    old = [vector(0, "A711"), vector(1, "E211")]
    new = [scan(0, None, [], look=1), scan(1, None, [], look=0)]
    asked = []

    def reread(side: str, index: int, boxes):
        asked.append((side, index, boxes))
        return ["E211"] if index == 0 else ["A/11"]

    matches = pairs(matching.match_sheets(old, new, reread=reread))
    assert set(matches) == {(1, 0), (0, 1)}
    assert {m.new_number for m in matches.values()} == {"A711", "E211"}
    assert [(side, index) for side, index, _b in asked] == [("new", 0), ("new", 1)]
    (box, height), = asked[0][2]
    assert box[0] < BOX[0] and box[2] > BOX[2] and height == pytest.approx(BOX[3] - BOX[1])


def test_a_renumbered_vector_sheet_stays_renumbered() -> None:
    old = [vector(0, "A-101", look=3), vector(1, "A-102", look=4)]
    new = [vector(0, "A-201", look=3), vector(1, "A-102", look=4)]
    matches = pairs(matching.match_sheets(old, new))
    assert matches[(0, 0)].renumbered and (matches[(0, 0)].old_number, matches[(0, 0)].new_number) == ("A-101", "A-201")
    assert not matches[(1, 1)].renumbered


def test_copies_of_one_number_pair_in_set_order() -> None:
    old = [vector(i, ["A011", "E101"][i % 2], look=i % 2) for i in range(6)]
    new = [vector(i, ["A011", "E101"][i % 2], look=i % 2) for i in range(6)]
    matches = pairs(matching.match_sheets(old, new))
    assert set(matches) == {(i, i) for i in range(6)}
    assert all("in set order" in m.notes[0] for m in matches.values())


@pytest.mark.parametrize("seed", range(20))
def test_the_assignment_is_optimal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.uniform(-2, 6, size=(rng.integers(1, 5), rng.integers(1, 5)))
    floor = 2.0
    got = best_pairs(scores, floor)
    best = 0.0
    rows, cols = scores.shape
    for k in range(min(rows, cols) + 1):
        for rs in itertools.combinations(range(rows), k):
            for cs in itertools.permutations(range(cols), k):
                if all(scores[r, c] >= floor for r, c in zip(rs, cs, strict=True)):
                    best = max(best, sum(scores[r, c] - floor for r, c in zip(rs, cs, strict=True)))
    assert sum(scores[r, c] - floor for r, c in got) == pytest.approx(best)
    assert all(scores[r, c] >= floor for r, c in got)


def test_a_small_address_read_on_a_scan_is_no_renumbering() -> None:
    old = [vector(0, "E211")]  # its number box is 10 pt tall
    address = SheetInfo(0, "F125", None, "ocr", (3024.0, 1296.0), False, picture(0),
                        number_candidates=[["F125", 1.0, [2700.0, 1100.0, 2720.0, 1104.0]]], ocr_words=["STE", "F125"])
    [m] = matching.match_sheets(old, [address])
    assert (m.status, m.new_number, m.renumbered) == ("matched", "E211", False)
    assert "read F125" in m.notes[0]
    renumbered = SheetInfo(0, "E301", None, "ocr", (3024.0, 1296.0), False, picture(0),
                           number_candidates=[["E301", 1.0, [2950.0, 1200.0, 2989.0, 1211.0]]], ocr_words=["E301"])
    [m] = matching.match_sheets(old, [renumbered])
    assert (m.status, m.new_number, m.renumbered) == ("matched", "E301", True)


def quarter_turned(img: list[list[int]], scale: float) -> list[list[int]]:
    """A thumbnail of the same drawing re-plotted a quarter turn round, scaled, onto paper of the first's
    shape (the rest of the page blank)."""
    import cv2

    turned = np.rot90(np.asarray(img, np.uint8))
    h, w = round(turned.shape[0] * scale), round(turned.shape[1] * scale)
    page = np.full((44, 64), 255, np.uint8)
    page[:min(44, h), :min(64, w)] = cv2.resize(turned, (w, h), interpolation=cv2.INTER_AREA)[:44, :64]
    return page.tolist()


def test_a_drawing_turned_a_quarter_round_looks_like_itself() -> None:
    drawing, other = picture(3), picture(4)
    turned = quarter_turned(drawing, 0.7)
    assert matching.thumbnail_similarity(drawing, turned) >= 0.6
    assert matching.thumbnail_similarity(drawing, turned) > matching.thumbnail_similarity(other, turned) + 0.2


def test_a_sheet_re_plotted_turned_pairs_with_itself_though_its_best_reading_differs() -> None:
    """One sheet a side: the new one turned on its paper, so a detail callout reads largest; the old
    number is among its readings, and it looks like the old sheet turned."""
    old = vector(0, "L01-H01D01-FOS-00-XX-MUP-AR-80050", look=3)
    new = vector(0, "EWS-551", ("L01-H01D01-FOS-00-XX-MUP-AR-80050", 0.7), look=3)
    new.thumbnail = quarter_turned(old.thumbnail, 0.7)
    found = pairs(matching.match_sheets([old], [new]))
    assert (0, 0) in found and found[(0, 0)].new_number == "L01-H01D01-FOS-00-XX-MUP-AR-80050"
