"""Make real test inputs from the bundled sample: re-plots, scans, subsets, broken and locked files."""
from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pymupdf

from buildtrace_desktop.processing.documents import pixmap_to_gray


def subset(src: Path, pages: list[int], out: Path) -> Path:
    """A new PDF of the given pages of `src`, in the given order."""
    doc = pymupdf.open()
    with pymupdf.open(src) as source:
        for p in pages:
            doc.insert_pdf(source, from_page=p, to_page=p)
    doc.save(out)
    doc.close()
    return out


def replot(src: Path, out: Path, scale: float, dx: float, dy: float, pages: list[int] | None = None) -> Path:
    """Re-plot pages as vectors on a same-size sheet, scaled about the origin and shifted (points):
    what a CAD re-plot with another origin and scale does. Text stays extractable."""
    doc = pymupdf.open()
    with pymupdf.open(src) as source:
        for p in pages if pages is not None else range(source.page_count):
            rect = source[p].rect
            page = doc.new_page(width=rect.width, height=rect.height)
            target = pymupdf.Rect(dx, dy, dx + rect.width * scale, dy + rect.height * scale)
            page.show_pdf_page(target, source, p)
    doc.save(out)
    doc.close()
    return out


def retype_word(src: Path, out: Path, page_index: int, word: str, text: str) -> pymupdf.Rect:
    """A copy of one page of `src` with `word` removed and `text` typed in its place (Helvetica, the
    word's size). Returns the word's box. Retyping the same word on the old side too makes the two
    sides differ only in the characters that changed, not in the font."""
    doc = pymupdf.open()
    with pymupdf.open(src) as source:
        doc.insert_pdf(source, from_page=page_index, to_page=page_index)
    page = doc[0]
    x0, y0, x1, y1 = next(w[:4] for w in page.get_text("words") if w[4] == word)
    size = next(s["size"] for b in page.get_text("dict")["blocks"] for line in b.get("lines", [])
                for s in line["spans"] if s["text"].strip() == word)
    page.add_redact_annot(pymupdf.Rect(x0, y0, x1, y1), fill=False)
    page.apply_redactions(images=pymupdf.PDF_REDACT_IMAGE_NONE, graphics=pymupdf.PDF_REDACT_LINE_ART_NONE)
    page.insert_text((x0, y1 - 0.22 * size), text, fontsize=size, fontname="helv")
    doc.save(out)
    doc.close()
    return pymupdf.Rect(x0, y0, x1, y1)


def scan(src: Path, out: Path, angle_deg: float = 0.8, dpi: float = 150.0, quality: int = 70,
         noise: float = 6.0, pages: list[int] | None = None, seed: int = 7) -> Path:
    """Print-and-scan: render gray, rotate a little about the centre, add noise, JPEG, image-only PDF."""
    rng = np.random.default_rng(seed)
    doc = pymupdf.open()
    with pymupdf.open(src) as source:
        for p in pages if pages is not None else range(source.page_count):
            page_in = source[p]
            gray = pixmap_to_gray(page_in.get_pixmap(dpi=int(dpi), colorspace=pymupdf.csGRAY))
            h, w = gray.shape
            m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
            rotated = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
            noisy = np.clip(rotated.astype(np.float32) * 0.92 + 14 + rng.normal(0, noise, rotated.shape), 0, 255)
            ok, jpeg = cv2.imencode(".jpg", noisy.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
            assert ok
            page = doc.new_page(width=page_in.rect.width, height=page_in.rect.height)
            page.insert_image(page.rect, stream=jpeg.tobytes())
    doc.save(out)
    doc.close()
    return out


def encrypted(src: Path, out: Path, password: str) -> Path:
    with pymupdf.open(src) as doc:
        doc.save(out, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw=password + "-owner", user_pw=password)
    return out


def truncated(src: Path, out: Path, fraction: float = 0.4) -> Path:
    data = src.read_bytes()
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def zero_pages(out: Path) -> Path:
    """A syntactically valid PDF whose page tree is empty (PyMuPDF refuses to write one)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    body = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        body += f"{off:010d} 00000 n \n".encode()
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    out.write_bytes(body)
    return out


def huge_page(out: Path, width_in: float = 60, height_in: float = 42) -> Path:
    doc = pymupdf.open()
    page = doc.new_page(width=width_in * 72, height=height_in * 72)
    page.draw_rect(pymupdf.Rect(36, 36, width_in * 72 - 36, height_in * 72 - 36), width=2)
    page.insert_text((width_in * 72 - 400, height_in * 72 - 80), "A-901", fontsize=60)
    doc.save(out)
    doc.close()
    return out


def copy(src: Path, out: Path) -> Path:
    shutil.copyfile(src, out)
    return out
