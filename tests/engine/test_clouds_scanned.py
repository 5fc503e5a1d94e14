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
