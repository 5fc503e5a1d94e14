"""The word-by-word check on a scan: a value in small text replaced by another is found; the same value
scanned is not."""
from __future__ import annotations

import cv2
import numpy as np
import pymupdf

from buildtrace_desktop.processing import wordcheck


def word_image(text: str, size: float = 6.0, dpi: int = 150) -> tuple[np.ndarray, tuple[float, ...]]:
    doc = pymupdf.open()
    page = doc.new_page(width=60, height=30)
    page.insert_text((20, 18), text, fontsize=size, fontname="helv")
    x0, y0, x1, y1 = page.get_text("words")[0][:4]
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width).copy()
    k = dpi / 72.0
    return img, (x0 * k, y0 * k, x1 * k, y1 * k)


def scanned(img: np.ndarray, seed: int = 3) -> np.ndarray:
    """Blur and noise, as a scanner leaves a page once its contrast is stretched back to black on white."""
    rng = np.random.default_rng(seed)
    blurred = cv2.GaussianBlur(img, (3, 3), 0.6).astype(np.float32)
    return np.clip(blurred + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


def test_values_in_small_text_replaced_on_a_scan_are_found_and_the_same_values_are_not() -> None:
    for size in (6.0, 7.0, 8.0):
        for before, after in (("14", "22"), ("140", "141"), ("48", "57")):
            for seed in range(3):
                old, box = word_image(before, size)
                changed, _ = word_image(after, size)
                assert wordcheck.changed_words(old, scanned(changed, seed), [box], 150), (size, before, after, seed)
                assert not wordcheck.changed_words(old, scanned(old, seed), [box], 150), (size, before, seed)
