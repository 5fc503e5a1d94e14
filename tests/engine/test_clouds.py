"""Revision clouds found in changed-ink masks, against clouds and look-alikes drawn here with PyMuPDF.

Each drawing is rendered the way the diff stage renders pages (gray, ink below 200); where an old page
matters (a cloud crossing unchanged lines) the mask is new ink with no old ink near it, as the diff
makes it. Boxes are compared in points.
"""
from __future__ import annotations

import json
import math
import time

import cv2
import numpy as np
import pymupdf
import pytest
from tests_paths import CORPUS

from buildtrace_desktop.processing.clouds import CloudShape, find_clouds

RED = (0.85, 0.0, 0.0)


# --- drawing


def scallop_points(corners: list[tuple[float, float]], step: float) -> list[pymupdf.Point]:
    """Cusp points along a closed polygon (clockwise on the page), about `step` apart."""
    points = []
    for a, b in zip(corners, corners[1:] + corners[:1], strict=False):
        a, b = pymupdf.Point(a), pymupdf.Point(b)
        n = max(1, round(abs(b - a) / step))
        points += [a + (b - a) * (i / n) for i in range(n)]
    return points


def draw_cloud(page: pymupdf.Page, corners: list[tuple[float, float]], step: float = 12.0, bulge: float = 0.3,
               width: float = 1.0, skip: int | None = None, color: tuple[float, float, float] = RED) -> None:
    """A revision cloud: circular arcs of sagitta `bulge` * chord bulging out between cusps `step` apart
    along `corners`; `skip`: the index of one arc left out (an outline left open)."""
    shape = page.new_shape()
    points = scallop_points(corners, step)
    for i, (p, q) in enumerate(zip(points, points[1:] + points[:1], strict=False)):
        if i != skip:
            _arc(shape, p, q, bulge)
    shape.finish(color=color, width=width, closePath=False)
    shape.commit()


def _arc(shape: pymupdf.Shape, p: pymupdf.Point, q: pymupdf.Point, bulge: float) -> None:
    """A circular arc from p to q bulging to the left of p -> q on the page (outward for a clockwise
    outline), as one cubic Bezier."""
    chord = abs(q - p)
    sag = bulge * chord
    radius = (chord * chord / 4 + sag * sag) / (2 * sag)
    half = math.asin(min(1.0, chord / 2 / radius))
    if sag > chord / 2:
        half = math.pi - half
    handle = 4 / 3 * math.tan(half / 2) * radius
    d = (q - p) / chord
    out = pymupdf.Point(d.y, -d.x)
    c, s = math.cos(half), math.sin(half)
    t0 = pymupdf.Point(d.x * c + out.x * s, d.y * c + out.y * s)  # leaves p turned outward by `half`
    t1 = pymupdf.Point(-d.x * c + out.x * s, -d.y * c + out.y * s)  # arrives at q the same way
    shape.draw_bezier(p, p + t0 * handle, q + t1 * handle, q)


def draw_delta(page: pymupdf.Page, x: float, y: float, text: str = "3") -> pymupdf.Rect:
    """A revision delta (20 pt triangle) with its number, top-left at (x, y)."""
    shape = page.new_shape()
    shape.draw_polyline([(x, y + 18), (x + 10, y), (x + 20, y + 18), (x, y + 18)])
    shape.finish(color=RED, width=1.0)
    shape.insert_text((x + 7, y + 15), text, fontsize=8, color=RED)
    shape.commit()
    return pymupdf.Rect(x, y, x + 20, y + 18)


def new_page() -> tuple[pymupdf.Document, pymupdf.Page]:
    doc = pymupdf.open()
    return doc, doc.new_page(width=1224, height=792)  # 17 x 11 in


def ink(page: pymupdf.Page, dpi: int, level: int = 200) -> np.ndarray:
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    gray = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width)
    return (gray < level).astype(np.uint8)


def added_mask(old: pymupdf.Page, new: pymupdf.Page, dpi: int) -> np.ndarray:
    """Ink of `new` with no ink of `old` within a pixel: what the diff reports as added."""
    near_old = cv2.dilate(ink(old, dpi, 235), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    return ink(new, dpi) & (1 - near_old)


def ink_box_pt(page_drawer, dpi: int) -> tuple[float, ...]:
    """Box (points) of the ink that `page_drawer(page)` puts on an empty page."""
    _doc, page = new_page()
    page_drawer(page)
    ys, xs = np.nonzero(ink(page, dpi))
    k = 72.0 / dpi
    return xs.min() * k, ys.min() * k, (xs.max() + 1) * k, (ys.max() + 1) * k


def box_pt(box_px, dpi: int) -> tuple[float, ...]:
    return tuple(v * 72.0 / dpi for v in box_px)


def assert_box_near(found, expected, tol_pt: float = 3.0) -> None:
    assert max(abs(a - b) for a, b in zip(found, expected, strict=False)) <= tol_pt, (found, expected)


def rect(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


# --- clouds


CLOUDS = {  # name: (corners, step, bulge): sizes from an inch to a plan area, flat and round scallops
    "small round": (rect(100, 100, 180, 160), 6.0, 0.4),
    "flat like CAD": (rect(300, 100, 460, 200), 12.0, 0.19),
    "large round": (rect(560, 80, 1100, 420), 30.0, 0.45),
    "free-form": ([(100, 500), (400, 500), (400, 600), (250, 600), (250, 720), (100, 720)], 15.0, 0.35),
}


@pytest.mark.parametrize("dpi", [150, 100])
@pytest.mark.parametrize("name", list(CLOUDS))
def test_finds_clouds_of_any_size_and_scallop(name: str, dpi: int) -> None:
    corners, step, bulge = CLOUDS[name]
    _doc, page = new_page()
    draw_cloud(page, corners, step, bulge)
    clouds = find_clouds(ink(page, dpi), dpi)
    assert len(clouds) == 1
    cloud = clouds[0]
    assert_box_near(box_pt(cloud.outline_px, dpi), ink_box_pt(lambda p: draw_cloud(p, corners, step, bulge), dpi))
    # Scallops under 10 px (6 pt at 100 dpi) lose their bulge to the contour's smoothing: half are counted.
    assert cloud.scallops >= (0.5 if step * dpi / 72 < 10 else 0.7) * len(scallop_points(corners, step))
    assert cloud.tag_px is None
    assert 0 < cloud.confidence <= 1


@pytest.mark.parametrize("dpi", [150, 100])
def test_tag_joins_the_cloud(dpi: int) -> None:
    _doc, page = new_page()
    draw_cloud(page, rect(200, 200, 360, 300), 12.0, 0.19)
    delta = draw_delta(page, 366, 241)
    [cloud] = find_clouds(ink(page, dpi), dpi)
    assert cloud.tag_px is not None
    assert_box_near(box_pt(cloud.tag_px, dpi), delta, 2.0)
    assert_box_near(box_pt(cloud.box_px, dpi), ink_box_pt(
        lambda p: (draw_cloud(p, rect(200, 200, 360, 300), 12.0, 0.19), draw_delta(p, 366, 241)), dpi))
    # The mask holds the tag's pixels too: the triangle and its number.
    tx0, ty0, tx1, ty1 = (round(v * dpi / 72.0) for v in delta)
    bx0, by0 = cloud.box_px[:2]
    assert cloud.mask[ty0 - by0:ty1 - by0, tx0 - bx0:tx1 - bx0].sum() > 0.5 * ink(page, dpi)[ty0:ty1, tx0:tx1].sum()


def test_cloud_crossing_unchanged_lines_has_gaps_and_is_found() -> None:
    dpi = 150
    old_doc, old = new_page()
    shape = old.new_shape()
    for x in (260, 330, 400):  # walls: heavy lines the cloud crosses
        shape.draw_line((x, 80), (x, 400))
    shape.draw_line((150, 250), (600, 250))
    shape.finish(color=(0, 0, 0), width=2.5)
    shape.commit()
    new_doc = pymupdf.open()
    new_doc.insert_pdf(old_doc)
    new = new_doc[0]
    corners = rect(220, 150, 480, 330)
    draw_cloud(new, corners, 14.0, 0.3)
    mask = added_mask(old, new, dpi)
    count, _ = cv2.connectedComponents(mask)
    assert count - 1 >= 8  # the walls cut the outline into pieces
    [cloud] = find_clouds(mask, dpi)
    assert_box_near(box_pt(cloud.outline_px, dpi), ink_box_pt(lambda p: draw_cloud(p, corners, 14.0, 0.3), dpi))


def test_outline_left_open_is_found() -> None:
    dpi = 150
    _doc, page = new_page()
    corners = rect(300, 200, 500, 330)
    draw_cloud(page, corners, 12.0, 0.3, skip=5)
    [cloud] = find_clouds(ink(page, dpi), dpi)
    assert_box_near(box_pt(cloud.outline_px, dpi), ink_box_pt(lambda p: draw_cloud(p, corners, 12.0, 0.3), dpi))


def test_mask_holds_the_outline_not_the_content_it_encloses() -> None:
    dpi = 150
    _doc, page = new_page()
    corners = rect(200, 150, 460, 340)
    draw_cloud(page, corners, 12.0, 0.3)
    content = page.new_shape()  # revised content inside, a wall touching the outline from within
    content.draw_rect(pymupdf.Rect(240, 190, 330, 300))
    content.draw_line((330, 245), (466, 245))
    content.finish(color=(0, 0, 0), width=1.5)
    content.commit()
    page.insert_text((350, 280), "NEW SINK", fontsize=10)
    page.insert_text((350, 300), "SEE 4/A501", fontsize=10)
    mask = ink(page, dpi)
    [cloud] = find_clouds(mask, dpi)
    x0, y0, x1, y1 = cloud.box_px
    found = np.zeros_like(mask)
    found[y0:y1, x0:x1] = cloud.mask
    outline_only = ink_mask_of(lambda p: draw_cloud(p, corners, 12.0, 0.3), dpi)
    assert (found & outline_only).sum() >= 0.95 * outline_only.sum()
    inside = mask & (1 - cv2.dilate(outline_only, np.ones((7, 7), np.uint8)))
    assert inside.sum() > 1000  # there is content, and none of it is in the cloud's mask
    assert (found & inside).sum() == 0


def ink_mask_of(page_drawer, dpi: int) -> np.ndarray:
    _doc, page = new_page()
    page_drawer(page)
    return ink(page, dpi)


def test_every_cloud_on_a_page_is_found_once() -> None:
    dpi = 150
    _doc, page = new_page()
    specs = [(rect(60 + 190 * i, 60 + 120 * (i % 3), 200 + 190 * i, 160 + 120 * (i % 3)), 8.0 + 3 * i, 0.2 + 0.05 * i)
             for i in range(6)]
    for corners, step, bulge in specs:
        draw_cloud(page, corners, step, bulge)
    clouds = sorted(find_clouds(ink(page, dpi), dpi), key=lambda c: c.outline_px[0])
    assert len(clouds) == len(specs)
    for cloud, (corners, step, bulge) in zip(clouds, specs, strict=False):
        drawn = ink_box_pt(lambda p, c=corners, s=step, b=bulge: draw_cloud(p, c, s, b), dpi)
        assert_box_near(box_pt(cloud.outline_px, dpi), drawn)


# --- look-alikes


def draw_look_alikes(page: pymupdf.Page) -> None:
    """What a changed-ink mask holds besides clouds: rooms, doors, hatching, text, bubbles, dashes, a
    column grid, dimension strings."""
    s = page.new_shape()
    s.draw_rect(pymupdf.Rect(40, 40, 240, 180))  # a room
    s.draw_rect(pymupdf.Rect(60, 60, 120, 120))
    for k in range(12):  # hatching in a box
        s.draw_line((260 + 10 * k, 40), (260 + 10 * k + 60, 180))
    s.draw_rect(pymupdf.Rect(260, 40, 440, 180))
    for x in (480, 560, 640):  # door swings: leaf and arc
        s.draw_line((x, 180), (x, 110))
        s.draw_curve((x, 110), (x + 70, 110), (x + 70, 180))
    s.draw_circle((760, 110), 60)  # circles and an ellipse with smooth outlines
    s.draw_circle((900, 110), 25)
    s.draw_oval(pymupdf.Rect(960, 60, 1160, 170))
    for i in range(6):  # a column grid: squares on grid lines, bubbles at the ends
        x = 80 + 120 * i
        s.draw_line((x, 230), (x, 470))
        s.draw_rect(pymupdf.Rect(x - 6, 294, x + 6, 306))
        s.draw_rect(pymupdf.Rect(x - 6, 394, x + 6, 406))
        s.draw_circle((x, 218), 12)
    s.draw_line((40, 300), (760, 300))
    s.draw_line((40, 400), (760, 400))
    for i in range(14):  # a row of touching bubbles
        s.draw_circle((820 + 24 * i, 260), 12)
    s.finish(color=(0, 0, 0), width=1.0)
    dashed = page.new_shape()  # dashed and dotted outlines
    dashed.draw_rect(pymupdf.Rect(820, 320, 1160, 470))
    dashed.draw_rect(pymupdf.Rect(850, 350, 1000, 440))
    dashed.finish(color=(0, 0, 0), width=1.0, dashes="[6 3] 0")
    dotted = page.new_shape()
    dotted.draw_oval(pymupdf.Rect(1020, 340, 1140, 450))
    dotted.finish(color=(0, 0, 0), width=2.5, dashes="[0.1 4] 0", lineCap=1)
    s.commit()
    dashed.commit()
    dotted.commit()
    notes = ("PROVIDE BLOCKING FOR WALL MOUNTED EQUIPMENT. SEE STRUCTURAL FOR LINTEL. PATCH AND PAINT TO "
             "MATCH EXISTING. VERIFY EXISTING CONDITIONS IN FIELD. OWNER FURNISHED EQUIPMENT. ") * 3
    page.insert_textbox(pymupdf.Rect(40, 500, 600, 640), notes, fontsize=9)
    page.insert_textbox(pymupdf.Rect(620, 500, 1160, 640), notes.lower(), fontsize=14)
    dims = page.new_shape()  # a dimension string with ticks
    dims.draw_line((40, 700), (1160, 700))
    for i in range(11):
        x = 40 + 112 * i
        dims.draw_line((x - 4, 704), (x + 4, 696))
        dims.draw_line((x, 690), (x, 710))
    dims.finish(color=(0, 0, 0), width=0.7)
    dims.commit()
    for i in range(10):
        page.insert_text((70 + 112 * i, 694), f"{10 + i}'-{i}\"", fontsize=8)


@pytest.mark.parametrize("dpi", [150, 100])
def test_look_alikes_are_not_clouds(dpi: int) -> None:
    _doc, page = new_page()
    draw_look_alikes(page)
    assert find_clouds(ink(page, dpi), dpi) == []


def test_look_alikes_beside_a_cloud_leave_it_alone() -> None:
    dpi = 150
    _doc, page = new_page()
    draw_look_alikes(page)
    corners = rect(660, 210, 780, 290)  # over the column grid's right end
    draw_cloud(page, corners, 10.0, 0.3)
    clouds = find_clouds(ink(page, dpi), dpi)
    assert len(clouds) == 1
    assert_box_near(box_pt(clouds[0].outline_px, dpi), ink_box_pt(lambda p: draw_cloud(p, corners, 10.0, 0.3), dpi),
                    6.0)


def test_an_empty_mask_costs_one_pass() -> None:
    mask = np.zeros((5000, 7000), np.uint8)  # 46 x 33 in at 150 dpi
    started = time.perf_counter()
    assert find_clouds(mask, 150) == []
    assert time.perf_counter() - started < 0.1


def test_bool_masks_and_small_pages_work() -> None:
    _doc, page = new_page()
    draw_cloud(page, rect(100, 100, 200, 170), 8.0, 0.3)
    mask = ink(page, 72).astype(bool)
    assert len(find_clouds(mask, 72)) == 1
    assert find_clouds(np.zeros((3, 5), np.uint8), 150) == []


# --- the shared corpus


def _render_gray(page: pymupdf.Page, dpi: int) -> np.ndarray:
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width)


@pytest.mark.corpus
@pytest.mark.parametrize("case", ["lily_edits", "va_edits"])
def test_generated_revision_clouds_are_found_and_nothing_else(case: str) -> None:
    """Every page of the generated cases that has a cloud: the cloud, with its tag, within 2 pt of the
    truth box, and no other cloud among the page's other edits, added or removed."""
    folder = CORPUS / "edits" / case
    truth = json.loads((folder / "truth.json").read_text())
    dpi = 150
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    with pymupdf.open(folder / "old.pdf") as old_doc, pymupdf.open(folder / "new.pdf") as new_doc:
        for sheet in truth["sheets"]:
            boxes = [c["bbox"] for c in sheet["changes"] if c["what"] == "revision cloud added"]
            if not boxes:
                continue
            old = _render_gray(old_doc[sheet["old_page"]], dpi)
            new = _render_gray(new_doc[sheet["new_page"]], dpi)
            added = ((new < 200) & (cv2.dilate((old < 235).astype(np.uint8), kernel) == 0)).astype(np.uint8)
            removed = ((old < 200) & (cv2.dilate((new < 235).astype(np.uint8), kernel) == 0)).astype(np.uint8)
            found = find_clouds(added, dpi)
            assert len(found) == len(boxes)
            for cloud in found:
                assert cloud.tag_px is not None
                assert min(max(abs(a - b) for a, b in zip(box_pt(cloud.box_px, dpi), box, strict=False)) for box in boxes) <= 2.0
            assert find_clouds(removed, dpi) == []


@pytest.mark.corpus
def test_real_revision_cloud_on_a_raster_sheet() -> None:
    """The temple sheet's first-aid closet cloud (delta K), from the ink the second addendum added:
    a 300 dpi raster whose arcs are about 40 pt."""
    folder = CORPUS / "temple_floorplan_L01_areaA_add1_vs_add2"
    x0, y0, x1, y1 = 1700, 6000, 3200, 7300  # pixels of the 9450 x 9000 sheet
    old = cv2.imread(str(folder / "old.png"), cv2.IMREAD_GRAYSCALE)[y0:y1, x0:x1]
    new = cv2.imread(str(folder / "new.png"), cv2.IMREAD_GRAYSCALE)[y0:y1, x0:x1]
    near_old = cv2.dilate((old < 235).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    added = ((new < 200) & (near_old == 0)).astype(np.uint8)
    clouds: list[CloudShape] = find_clouds(added, 300)
    assert len(clouds) == 1
    cloud = clouds[0]
    ox0, oy0, ox1, oy1 = cloud.outline_px
    assert (ox1 - ox0, oy1 - oy0) > (900, 500)
    assert cloud.scallops >= 12
    assert cloud.tag_px is not None and cloud.tag_px[3] <= oy0 + 40  # the delta sits on the top edge
