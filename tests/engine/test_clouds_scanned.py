"""A revision cloud on a scanned revision: drawn in colour, it comes out of the scanner mid-gray, lighter
than the scan's ink level, and must still be reported as a revision cloud (not as pieces of line work)."""
from __future__ import annotations

from pathlib import Path

import pdf_makers
import pymupdf
from test_clouds import draw_cloud, draw_delta, rect

from buildtrace_desktop.processing import documents, pipeline
from buildtrace_desktop.processing.types import CompareSettings

ORANGE = (1.0, 0.45, 0.0)  # 150 in gray


def test_a_coloured_cloud_on_a_scanned_revision_is_a_revision_cloud(tmp_path: Path, sample_old: Path) -> None:
    old = pdf_makers.subset(sample_old, [0], tmp_path / "old.pdf")
    with pymupdf.open(old) as doc:
        page = doc[0]
        x0, y0 = 0.3 * page.rect.width, 0.25 * page.rect.height
        page.draw_rect(pymupdf.Rect(x0 - 40, y0 - 40, x0 + 240, y0 + 170), color=(1, 1, 1), fill=(1, 1, 1))
        doc.save(tmp_path / "blank.pdf")  # an empty patch to draw the cloud on, on both sides
    with pymupdf.open(tmp_path / "blank.pdf") as doc:
        draw_cloud(doc[0], rect(x0, y0, x0 + 160, y0 + 110), step=12.0, bulge=0.45, color=ORANGE)
        draw_delta(doc[0], x0 + 168, y0 + 45, "4")
        doc.save(tmp_path / "clouded.pdf")
    # A gray scan: the orange outline comes out at gray 140-190, lighter than a scan's ink level
    scanned = pdf_makers.scan(tmp_path / "clouded.pdf", tmp_path / "new.pdf", angle_deg=0.6, noise=6.0)
    settings = CompareSettings(ocr=False)
    old_ref = documents.list_pages([str(tmp_path / "blank.pdf")])[0]
    new_ref = documents.list_pages([str(scanned)])[0]
    result = pipeline.compare_pair(old_ref, new_ref, settings)
    clouds = [c for c in result.changes if c.what == "revision cloud added"]
    assert len(clouds) == 1, [(c.what, [round(v) for v in c.bbox]) for c in result.changes]
    # the outline's box, with its scallops (5 pt out) and the delta, where the scan's tilt put it
    found, drawn = clouds[0].bbox, (x0, y0, x0 + 188, y0 + 110)
    assert all(abs(a - b) < 20 for a, b in zip(found, drawn, strict=True)), (found, drawn)
    assert not [c for c in result.changes if c.what.startswith("line work")]


def test_a_red_cloud_over_walls_on_a_colour_raster_is_found_in_its_colour(tmp_path: Path) -> None:
    """A colour raster revision (a sheet exported as PNG) whose red cloud crosses black walls every few
    points: the gray diff cuts its outline at every wall, its colour keeps it whole."""
    doc = pymupdf.open()
    page = doc.new_page(width=900, height=600)
    for x in range(40, 880, 22):  # walls and grid lines, 22 pt apart
        page.draw_line((x, 30), (x, 570), width=1.6)
    for y in range(40, 560, 26):
        page.draw_line((30, y), (870, y), width=1.0)
    page.get_pixmap(dpi=100).save(tmp_path / "old.png")
    draw_cloud(page, rect(250, 180, 560, 400), step=14.0, bulge=0.4, width=1.4)
    page.get_pixmap(dpi=100).save(tmp_path / "new.png")
    old_ref, new_ref = (documents.list_pages([str(tmp_path / f"{n}.png")])[0] for n in ("old", "new"))
    result = pipeline.compare_pair(old_ref, new_ref, CompareSettings(ocr=False))
    clouds = [c for c in result.changes if c.what == "revision cloud added"]
    assert len(clouds) == 1, [(c.what, [round(v) for v in c.bbox]) for c in result.changes]
    drawn = (250, 180, 560, 400)  # the PNGs carry their 100 dpi: page points as drawn
    assert all(abs(a - b) < 15 for a, b in zip(clouds[0].bbox, drawn, strict=True)), (clouds[0].bbox, drawn)


def test_a_cloud_on_a_raster_without_its_resolution_is_found(tmp_path: Path) -> None:
    """A 300 dpi export saved without a resolution tag reads as 72 dpi, its scallops four times too big
    for a cloud's; clouds are also looked for at the resolution drawings are exported at."""
    import cv2
    import numpy as np

    doc = pymupdf.open()
    page = doc.new_page(width=600, height=400)
    for x in range(60, 560, 90):
        page.draw_line((x, 40), (x, 360), width=1.0)

    def save_untagged(name: str) -> Path:
        pix = page.get_pixmap(dpi=300)
        rgb = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, pix.n)
        cv2.imwrite(str(tmp_path / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))  # no pHYs chunk
        return tmp_path / name

    old = save_untagged("old.png")
    draw_cloud(page, rect(200, 120, 420, 280), step=20.0, bulge=0.4, width=1.2)
    new = save_untagged("new.png")
    result = pipeline.compare_pair(documents.list_pages([str(old)])[0], documents.list_pages([str(new)])[0],
                                   CompareSettings(ocr=False))
    clouds = [c for c in result.changes if c.what == "revision cloud added"]
    assert len(clouds) == 1, [(c.what, [round(v) for v in c.bbox]) for c in result.changes]
    drawn = tuple(v * 300 / 72 for v in (200, 120, 420, 280))  # read as 72 dpi: a pixel is a point
    assert all(abs(a - b) < 40 for a, b in zip(clouds[0].bbox, drawn, strict=True)), (clouds[0].bbox, drawn)
