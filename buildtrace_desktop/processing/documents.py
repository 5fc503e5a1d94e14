"""Open drawing files safely: triage into pages, page sizes, text-layer words, grayscale renders.

A drawing set is a PDF, an image (PNG, JPEG, TIFF) or a folder of them. Every problem a user can cause
(corrupt, truncated, encrypted, empty, not a drawing, too large) becomes a BadInputError subclass that
names the file and page and says what to do.
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pymupdf

from buildtrace_desktop.errors import (
    BadInputError,
    CorruptFileError,
    EmptyDocumentError,
    EncryptedFileError,
    PageTooLargeError,
    UnsupportedFileError,
)
from buildtrace_desktop.processing.kept_documents import KEPT
from buildtrace_desktop.processing.types import Box, CompareSettings, PageRef, Word

PDF_SUFFIXES = {".pdf"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
MIN_DPI = 20.0
UNTAGGED_DPI = 72.0  # an image without a resolution tag (REPORT_FORMAT.md: a pixel is a point)
MAX_PAGE_POINTS = 14400.0  # 200 in: the PDF limit for a page side

# MuPDF prints repair warnings for damaged files on stderr; we report problems ourselves.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


def list_pages(paths: list[str | os.PathLike], password: str | None = None) -> list[PageRef]:
    """Expand files and folders into the pages of one drawing set, in order. Checks every file opens."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in PDF_SUFFIXES | IMAGE_SUFFIXES)
            if not found:
                raise EmptyDocumentError(f"{path}: the folder holds no PDF or image files (PDF, PNG, JPEG, TIFF).")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise BadInputError(f"{path}: no such file or folder.")
    pages: list[PageRef] = []
    for path in files:
        kind = file_kind(path)
        with open_document(path, password) as doc:
            for index in range(doc.page_count):
                pages.append(PageRef(str(path.resolve()), index, len(pages), kind))
    return pages


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        return "pdf"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"%PDF"):
        return "pdf"
    raise UnsupportedFileError(
        f"{path}: not a PDF or an image (PNG, JPEG, TIFF). Export the drawings to PDF and import that."
    )


@contextlib.contextmanager
def open_document(path: str | Path, password: str | None = None, close: bool = True) -> Iterator[pymupdf.Document]:
    """Open a PDF or image as a MuPDF document, turning every failure into a clear BadInputError.
    With `close` False, a document that opened cleanly is left open for the caller to keep."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise EmptyDocumentError(f"{path}: the file is empty (0 bytes). Copy it again from its source.")
    try:
        doc = pymupdf.open(path)
    except Exception as exc:  # MuPDF raises several types for damaged files
        raise CorruptFileError(
            f"{path}: cannot be read as a {'PDF' if file_kind(path) == 'pdf' else 'image'} ({exc}). "
            "The file is damaged or truncated: download or export it again."
        ) from exc
    try:
        if doc.needs_pass:
            if not password:
                raise EncryptedFileError(
                    f"{path}: the PDF is password-protected. Give the password with --password "
                    "(or in the import dialog), or ask the sender for an unprotected copy."
                )
            if not doc.authenticate(password):
                raise EncryptedFileError(f"{path}: the password given does not open this PDF.")
        if doc.page_count == 0:
            raise EmptyDocumentError(f"{path}: the document has no pages.")
        if doc.is_pdf and doc.is_repaired:
            _check_repaired(doc, path)
    except BaseException:
        doc.close()
        raise
    try:
        yield doc
    finally:
        if close:
            doc.close()


# What MuPDF says when page content itself is cut short, not just the cross-reference table.
_DAMAGE_SIGNS = ("premature end", "truncated", "syntax error", "is not a stream", "unknown compression",
                 "page tree load failed", "cannot find object")


def _check_repaired(doc: pymupdf.Document, path: Path) -> None:
    """MuPDF 'repairs' truncated files and then draws what is left: half a drawing would be compared as
    if the rest had been deleted. A repaired file is used only if its pages' content reads cleanly."""
    pymupdf.TOOLS.reset_mupdf_warnings()
    for page in doc:
        try:
            page.get_text("text")
        except Exception as exc:
            raise CorruptFileError(f"{path}, page {page.number + 1}: the page is damaged ({exc}). "
                                   "Download or export the file again.") from exc
        warnings = pymupdf.TOOLS.mupdf_warnings()
        if not page.get_contents():
            raise CorruptFileError(f"{path}: the file is damaged or truncated (page {page.number + 1} has no "
                                   "content left). Download or export it again.")
        if any(sign in warnings for sign in _DAMAGE_SIGNS):
            detail = next(line for line in warnings.splitlines() if any(s in line for s in _DAMAGE_SIGNS))
            raise CorruptFileError(
                f"{path}: the file is damaged or truncated (page {page.number + 1}: {detail}). "
                "Download or export it again."
            )


class OpenPage:
    """One page, open for rendering and text extraction. Use through `open_page`.

    Text is extracted lazily and once: an unchanged sheet in the common frame never needs it, and on a
    dense sheet it costs as much as rendering.
    """

    def __init__(self, ref: PageRef, doc: pymupdf.Document, page: pymupdf.Page, size: tuple[float, float],
                 has_text: bool | None = None, is_scan: bool | None = None, image_dpi: float | None = None) -> None:
        self.ref, self.doc, self.page = ref, doc, page
        self.size = size  # points, rotation applied
        self.image_dpi = image_dpi  # native resolution of an image page or full-page scan image
        self._has_text, self._is_scan = has_text, is_scan
        self._textpage = None
        self._display_list: pymupdf.DisplayList | None = None
        self._words: list[Word] | None = None
        self._native: np.ndarray | None = None  # a scan at its own resolution, once decoded
        self.untagged = False  # an image whose file gives no resolution (read as 72 dpi)

    def display_list(self) -> pymupdf.DisplayList:
        """The page's content, interpreted once: every render and the text extraction replay it. On a
        dense sheet the interpretation costs as much as a render at 150 dpi."""
        if self._display_list is None:
            try:
                self._display_list = self.page.get_displaylist()
            except Exception as exc:
                raise CorruptFileError(
                    f"{self.ref.path}, page {self.ref.page_index + 1}: the page content is damaged ({exc})."
                ) from exc
        return self._display_list

    def _text_page(self):
        if self._textpage is None:
            try:  # TEXTFLAGS_TEXT leaves images out: with them, 'dict' takes seconds on pages with logos
                if self._display_list is None and self.page.rotation == 0:
                    # Nothing rendered yet (reading a sheet's number): straight from the page, which
                    # skips storing every path in a display list (a fifth of the time on a dense sheet).
                    # Not on a rotated page: that text comes in unrotated coordinates, unlike renders.
                    self._textpage = self.page.get_textpage(flags=pymupdf.TEXTFLAGS_TEXT)
                    return self._textpage
                textpage = pymupdf.TextPage(self.display_list().get_textpage(flags=pymupdf.TEXTFLAGS_TEXT))
                textpage.parent = self.page  # PyMuPDF checks a text page belongs to the page it reads
                self._textpage = textpage
            except Exception as exc:
                raise CorruptFileError(
                    f"{self.ref.path}, page {self.ref.page_index + 1}: the page content is damaged ({exc})."
                ) from exc
        return self._textpage

    @property
    def has_text(self) -> bool:
        if self._has_text is None:
            self._has_text = len(self.page.get_text("text", textpage=self._text_page()).strip()) >= 20
        return self._has_text

    @property
    def is_scan(self) -> bool:
        """A page without text whose largest image covers most of it."""
        if self._is_scan is None:
            self._is_scan = False
            if self.page.get_images() and not self.has_text:
                page_area = self.size[0] * self.size[1]
                for info in self.page.get_image_info():
                    x0, y0, x1, y1 = info["bbox"]
                    if (x1 - x0) * (y1 - y0) >= 0.6 * page_area:
                        self._is_scan = True
                        self.image_dpi = info["width"] * 72.0 / max(1e-6, x1 - x0)
                        break
        return self._is_scan

    def render_gray(self, dpi: float, clip: Box | None = None) -> np.ndarray:
        """Render the page (or `clip`, in points) to an 8-bit gray array at `dpi`.

        A scan is decoded once at its own resolution and a clip of it is cut from that and resized:
        MuPDF decodes the whole page image again for every clip (0.13 s for a 6000 px PNG, and a scan's
        changes are read by OCR one clip each)."""
        if self.is_scan and self.image_dpi:
            native = abs(dpi - self.image_dpi) < 0.01
            if clip is None:
                img = self._render(dpi, None)
                if native:
                    self._native = img
                    # MuPDF keeps its own decoded copy of the scan in its cache; this one serves every
                    # later clip, so that copy (27 MB for a 42 x 30 in sheet at 150 dpi) can go
                    pymupdf.TOOLS.store_shrink(100)
                return img
            return self._cut_from_native(dpi, clip)
        return self._render(dpi, clip)

    def _cut_from_native(self, dpi: float, clip: Box) -> np.ndarray:
        if self._native is None:
            self._native = self._render(self.image_dpi, None)
        s = self.image_dpi / 72.0
        h, w = self._native.shape
        x0, y0 = max(0, int(np.floor(clip[0] * s))), max(0, int(np.floor(clip[1] * s)))
        x1, y1 = min(w, int(np.ceil(clip[2] * s))), min(h, int(np.ceil(clip[3] * s)))
        out_w = max(1, round((clip[2] - clip[0]) * dpi / 72.0))
        out_h = max(1, round((clip[3] - clip[1]) * dpi / 72.0))
        if x1 <= x0 or y1 <= y0:
            return np.full((out_h, out_w), 255, np.uint8)
        crop = self._native[y0:y1, x0:x1]
        shrinking = out_w < crop.shape[1]
        return cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)

    def _render(self, dpi: float, clip: Box | None) -> np.ndarray:
        """MuPDF's render of the page (or `clip`, points) at `dpi`."""
        zoom = dpi / 72.0
        kwargs = {"matrix": pymupdf.Matrix(zoom, zoom), "colorspace": pymupdf.csGRAY, "alpha": False}
        if clip is not None:
            kwargs["clip"] = pymupdf.Rect(*clip)
        try:
            pix = self.display_list().get_pixmap(**kwargs)
        except Exception as exc:
            raise CorruptFileError(
                f"{self.ref.path}, page {self.ref.page_index + 1}: cannot be rendered ({exc}). "
                "The page is damaged: export it again."
            ) from exc
        return pixmap_to_gray(pix)

    def words(self) -> list[Word]:
        """Words of the text layer (empty for scans), boxes in points. Cached: alignment and text diff
        both need them, and extraction is the slow part."""
        if not self.has_text:
            return []
        if self._words is None:
            raw = self.page.get_text("words", textpage=self._text_page())
            self._words = [Word((w[0], w[1], w[2], w[3]), w[4]) for w in raw if w[4].strip()]
        return self._words

    def render_gray_transformed(self, m_pt, dpi: float, shape: tuple[int, int]) -> np.ndarray:
        """Render the page through `m_pt` (this page's points -> target points) into a target canvas of
        `shape` pixels at `dpi`. Rendering through the transform keeps vector lines crisp, where
        warping a bitmap would blur hairlines below the ink threshold."""
        return self._render_transformed(m_pt, dpi, shape, colour=False)

    @property
    def is_colour(self) -> bool:
        """A scan whose image has colour components (a vector page's colour costs a render to know)."""
        return self.is_scan and any(info.get("colorspace", 1) >= 3 for info in self.page.get_image_info())

    def render_chroma_transformed(self, m_pt, dpi: float, shape: tuple[int, int]) -> np.ndarray:
        """How coloured each pixel is (the largest less the smallest of red, green and blue, 0-255), the
        page rendered as `render_gray_transformed` renders it: revision marks are drawn in colour."""
        rgb = self._render_transformed(m_pt, dpi, shape, colour=True)
        chroma = np.empty(shape, np.uint8)
        for y in range(0, shape[0], 512):  # in bands: three channel copies of a whole sheet are 80 MB more
            r, g, b = cv2.split(rgb[y:y + 512])
            chroma[y:y + 512] = cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))
        return chroma

    def _render_transformed(self, m_pt, dpi: float, shape: tuple[int, int], colour: bool) -> np.ndarray:
        s = dpi / 72.0
        k = self._points_scale()
        (a, c, e), (b, d, f) = m_pt
        matrix = pymupdf.Matrix(a * s / k, b * s / k, c * s / k, d * s / k, e * s, f * s)
        try:
            pix = self.display_list().get_pixmap(matrix=matrix, colorspace=pymupdf.csRGB if colour else pymupdf.csGRAY,
                                                 alpha=False)
        except Exception as exc:
            raise CorruptFileError(
                f"{self.ref.path}, page {self.ref.page_index + 1}: cannot be rendered ({exc})."
            ) from exc
        if colour:
            img = np.frombuffer(pix.samples_mv, np.uint8).reshape(pix.height, pix.stride)[:, :pix.width * 3]
            img = img.reshape(pix.height, pix.width, 3)
            shape = (*shape, 3)
        else:
            img = pixmap_to_gray(pix)
        canvas = np.full(shape, 255, np.uint8)
        x0, y0 = pix.x, pix.y
        sx0, sy0 = max(0, -x0), max(0, -y0)
        dx0, dy0 = max(0, x0), max(0, y0)
        w = min(img.shape[1] - sx0, shape[1] - dx0)
        h = min(img.shape[0] - sy0, shape[0] - dy0)
        if w > 0 and h > 0:
            canvas[dy0:dy0 + h, dx0:dx0 + w] = img[sy0:sy0 + h, sx0:sx0 + w]
        return canvas

    def _points_scale(self) -> float:
        """MuPDF page points per our page point (differs only for untagged images)."""
        return self.page.rect.width / self.size[0]

    def text_dict(self) -> dict:
        """Blocks, lines and spans with font sizes, from the page's one text extraction."""
        return self.page.get_text("dict", textpage=self._text_page())


_REFERENCE = re.compile(rb"(\d+) (\d+) R")
_PAGE_TYPES = {"/Page", "/Pages"}
# Past these, a page's objects are not worth digesting (a file whose pages share one huge resource
# dictionary): the pair is compared the long way. Real sheets: 40-170 objects, 0.1-3.5 MB (measured).
FINGERPRINT_MAX_OBJECTS = 20_000
FINGERPRINT_MAX_BYTES = 256 * 1024 * 1024


def content_fingerprint(page: OpenPage) -> str | None:
    """A digest of everything that draws a PDF page: its content streams, resources and annotations with
    every object they reach (raw bytes), its boxes and rotation, and the document's layer settings.

    Two pages with equal fingerprints draw the same picture, so a pair of them needs no alignment and no
    diff; that is most pairs of a revision set whose unchanged sheets were carried over. Object numbers
    differ between two files, so references are replaced by the order in which the walk meets them.
    None for image files (scans of one sheet are never byte-identical)."""
    if page.ref.kind == "image":
        return None
    doc, digest, order = page.doc, hashlib.blake2b(digest_size=20), {}
    hashed = 0  # stream bytes so far

    def walk(text: bytes) -> None:
        nonlocal hashed
        pending = []

        def canonical(match: re.Match) -> bytes:
            xref = int(match.group(1))
            if xref not in order:
                order[xref] = len(order)
                pending.append(xref)
            return b"@%d" % order[xref]

        digest.update(_REFERENCE.sub(canonical, text))
        if len(order) > FINGERPRINT_MAX_OBJECTS or hashed > FINGERPRINT_MAX_BYTES:
            raise _TooLargeToDigest
        for xref in pending:
            if doc.xref_get_key(xref, "Type")[1] in _PAGE_TYPES:
                digest.update(b"<page>")  # a link to another sheet: that sheet's content is not this one's
                continue
            digest.update(b"<obj %d>" % order[xref])
            walk(doc.xref_object(xref, compressed=True).encode("latin-1"))
            if doc.xref_is_stream(xref):
                raw = doc.xref_stream_raw(xref) or b""
                hashed += len(raw)
                digest.update(raw)

    def walk_key(key: str, kind: str, value: str) -> None:
        digest.update(f"/{key} {kind} ".encode())
        walk(value.encode("latin-1"))

    try:
        pdf_page = page.page
        digest.update(repr((pdf_page.rotation, tuple(pdf_page.mediabox), tuple(pdf_page.cropbox))).encode())
        order[pdf_page.xref] = 0
        for key in ("Contents", "Annots", "Group", "UserUnit"):
            walk_key(key, *doc.xref_get_key(pdf_page.xref, key))
        walk_key("Resources", *_inherited_key(doc, pdf_page.xref, "Resources"))  # may sit on the page tree
        walk_key("OCProperties", *doc.xref_get_key(doc.pdf_catalog(), "OCProperties"))  # which layers show
    except Exception:  # too large to digest, or a damaged object: the pair is compared the long way
        return None
    return digest.hexdigest()


class _TooLargeToDigest(Exception):
    pass


def _inherited_key(doc: pymupdf.Document, xref: int, key: str) -> tuple[str, str]:
    """A page attribute that may be inherited from the page tree (PDF 1.7, 7.7.3.4)."""
    for _ in range(64):
        kind, value = doc.xref_get_key(xref, key)
        if kind != "null":
            return kind, value
        kind, parent = doc.xref_get_key(xref, "Parent")
        if kind != "xref":
            break
        xref = int(parent.split()[0])
    return "null", "null"


def pixmap_to_gray(pix: pymupdf.Pixmap) -> np.ndarray:
    """Copy a pixmap's samples into a gray array (the pixmap's buffer dies with it, so always copy)."""
    arr = np.frombuffer(pix.samples_mv, dtype=np.uint8).reshape(pix.height, pix.stride)
    if pix.n != 1:
        arr = arr[:, : pix.width * pix.n].reshape(pix.height, pix.width, pix.n)
        return arr[:, :, :3].mean(axis=2).astype(np.uint8)
    return arr[:, : pix.width].copy()


@contextlib.contextmanager
def _document_for_pages(path: str, password: str | None) -> Iterator[pymupdf.Document]:
    """The document, from those kept open, or opened (and checked) now."""
    doc = KEPT.acquire(path, password)
    if doc is not None:
        try:
            yield doc
        finally:
            KEPT.release(doc)
        return
    with open_document(path, password, close=False) as doc:
        kept = KEPT.limit > 0 and KEPT.keep(path, password, doc)
    try:
        yield doc
    finally:
        if kept:
            KEPT.release(doc)
        else:
            doc.close()


@contextlib.contextmanager
def open_page(ref: PageRef, settings: CompareSettings) -> Iterator[OpenPage]:
    with _document_for_pages(ref.path, settings.password) as doc:
        try:
            page = doc[ref.page_index]
        except Exception as exc:
            raise CorruptFileError(
                f"{ref.path}, page {ref.page_index + 1}: cannot be read ({exc}). Export the set again."
            ) from exc
        if ref.kind == "image":
            yield _image_page(ref, doc, page)
        else:
            yield _pdf_page(ref, doc, page)


def _pdf_page(ref: PageRef, doc: pymupdf.Document, page: pymupdf.Page) -> OpenPage:
    width, height = page.rect.width, page.rect.height
    if width <= 1 or height <= 1:
        raise BadInputError(f"{ref.path}, page {ref.page_index + 1}: the page has no size ({width} x {height} pt).")
    return OpenPage(ref, doc, page, (width, height))


def _image_page(ref: PageRef, doc: pymupdf.Document, page: pymupdf.Page) -> OpenPage:
    width_px, height_px, tagged = image_info(ref.path, tagged_only=True)
    dpi = tagged or UNTAGGED_DPI
    size = (width_px * 72.0 / dpi, height_px * 72.0 / dpi)
    opened = _ImagePage(ref, doc, page, size, has_text=False, is_scan=True, image_dpi=dpi)
    opened.untagged = tagged is None
    return opened


class _ImagePage(OpenPage):
    """An image page. MuPDF sizes it by a 96 dpi default when untagged; the report format says 72
    (1 px = 1 pt), so our points and MuPDF's differ by a scale that the renderers undo."""

    def _render(self, dpi: float, clip: Box | None) -> np.ndarray:
        k = self._points_scale()
        if clip is not None:
            clip = (clip[0] * k, clip[1] * k, clip[2] * k, clip[3] * k)
        return OpenPage._render(self, dpi / k, clip)


def image_info(path: str | Path, tagged_only: bool = False) -> tuple[int, int, float | None]:
    """Width and height in pixels and the image's own dpi tag, or 72 when it has none (REPORT_FORMAT.md;
    None with `tagged_only`)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            dpi = im.info.get("dpi")
            width, height = im.size
    except Exception as exc:
        raise CorruptFileError(f"{path}: cannot be read as an image ({exc}). Export it again.") from exc
    if not dpi or float(dpi[0]) <= 1:
        return width, height, None if tagged_only else UNTAGGED_DPI
    # PNG stores pixels per metre: 150 dpi comes back as 149.9876. Snap to the whole number meant.
    value = float(dpi[0])
    return width, height, float(round(value)) if abs(value - round(value)) < 0.05 else value


def choose_dpi(sizes: list[tuple[float, float]], settings: CompareSettings,
               native_dpis: list[float | None] | None = None) -> float:
    """The render DPI for a pair: the asked DPI, no more than an image page's own resolution (more only
    upsamples), lowered so no page exceeds `settings.max_pixels`."""
    dpi = settings.dpi
    for native in native_dpis or []:
        if native:
            dpi = min(dpi, max(MIN_DPI, native))
    for width, height in sizes:
        if max(width, height) > MAX_PAGE_POINTS * 1.01:
            raise PageTooLargeError(
                f"a page of {width / 72:.0f} x {height / 72:.0f} in is larger than PDF allows (200 in)."
            )
        pixels = (width * dpi / 72.0) * (height * dpi / 72.0)
        if pixels > settings.max_pixels:
            dpi = math.floor(dpi * math.sqrt(settings.max_pixels / pixels))
    if dpi < MIN_DPI:
        raise PageTooLargeError(
            f"the page is too large to compare within the pixel limit ({settings.max_pixels / 1e6:.0f} MP)."
        )
    return float(dpi)
