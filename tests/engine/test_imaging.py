"""The whole-image reductions and the palette PNG writer, against plain NumPy and OpenCV's decoder."""
from __future__ import annotations

import cv2
import numpy as np
import pymupdf
import pytest

from buildtrace_desktop.processing.imaging import any_pool, shrink
from buildtrace_desktop.processing.overlay import (
    encode_indexed_png,
    gray_palette,
    overlay_palette,
    png_image_parts,
)
from buildtrace_desktop.processing.report import insert_png


def _reference_pool(mask: np.ndarray, cell: int) -> np.ndarray:
    h, w = mask.shape
    ch, cw = -(-h // cell), -(-w // cell)
    padded = np.zeros((ch * cell, cw * cell), np.uint8)
    padded[:h, :w] = mask
    return (padded.reshape(ch, cell, cw, cell).max(axis=(1, 3)) > 0).astype(np.uint8)


@pytest.mark.parametrize("shape", [(450, 631), (451, 630), (100, 37), (16, 16), (5, 7)])
@pytest.mark.parametrize("cell", [3, 7, 15, 16])
def test_any_pool_keeps_every_isolated_pixel(shape, cell) -> None:
    rng = np.random.default_rng(sum(shape) + cell)
    mask = (rng.random(shape) < 0.002).astype(np.uint8)
    mask[-1, -1] = mask[0, -1] = mask[-1, 0] = 1  # the corners, where partial cells are
    assert np.array_equal(any_pool(mask, cell), _reference_pool(mask, cell))


def test_shrink_averages_whole_blocks_from_the_top_left() -> None:
    img = np.arange(7 * 9, dtype=np.uint8).reshape(7, 9)
    small = shrink(img, 3)
    assert small.shape == (2, 3)
    assert small[1, 2] == round(img[3:6, 6:9].mean())
    assert shrink(img, 1) is img


def test_palette_png_round_trips_through_opencv() -> None:
    rng = np.random.default_rng(0)
    indices = rng.integers(0, 256, (40, 70), dtype=np.uint8)
    for palette in (overlay_palette(), gray_palette()):
        decoded = cv2.imdecode(np.frombuffer(encode_indexed_png(indices, palette), np.uint8), cv2.IMREAD_COLOR)
        assert np.array_equal(decoded[..., ::-1], palette[indices])  # OpenCV decodes to BGR


def test_png_rows_embed_in_a_pdf_unchanged(tmp_path) -> None:
    """report.pdf shows a PNG by passing its compressed rows through; MuPDF must draw the same pixels."""
    rng = np.random.default_rng(1)
    indices = rng.integers(0, 256, (30, 50), dtype=np.uint8)
    palette = overlay_palette()
    data = encode_indexed_png(indices, palette)
    parts = png_image_parts(data)
    assert parts is not None and (parts["width"], parts["height"], parts["indexed"]) == (50, 30, True)

    png = tmp_path / "p.png"
    png.write_bytes(data)
    doc = pymupdf.open()
    page = doc.new_page(width=50, height=30)
    insert_png(page, page.rect, png)
    doc.save(tmp_path / "p.pdf", garbage=3, deflate=True)
    with pymupdf.open(tmp_path / "p.pdf") as saved:
        pix = saved[0].get_pixmap(dpi=72, colorspace=pymupdf.csRGB, alpha=False)
        drawn = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, 3)
    assert drawn.shape == (30, 50, 3)
    assert np.abs(drawn.astype(int) - palette[indices].astype(int)).mean() < 2
