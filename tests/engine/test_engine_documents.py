"""Opening drawing files: every kind of bad input gives a clear error naming the file."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pdf_makers
import pymupdf
import pytest

from buildtrace_desktop.errors import (
    BadInputError,
    CorruptFileError,
    EmptyDocumentError,
    EncryptedFileError,
    ExitCode,
    PageTooLargeError,
    UnsupportedFileError,
)
from buildtrace_desktop.processing import documents
from buildtrace_desktop.processing.types import CompareSettings


def test_sample_pages_have_size_text_and_render(sample_old: Path) -> None:
    pages = documents.list_pages([sample_old])
    assert [(p.page_index, p.set_index, p.kind) for p in pages] == [(0, 0, "pdf"), (1, 1, "pdf")]
    with documents.open_page(pages[0], CompareSettings()) as page:
        assert page.size == pytest.approx((3024.0, 2160.0))
        assert page.has_text and not page.is_scan
        img = page.render_gray(50)
        assert img.shape == (1500, 2100) and img.dtype == np.uint8
        assert 0 < (img < 128).mean() < 0.3  # a drawing: some ink, mostly paper
        assert any(w.text == "AF101" for w in page.words())


def test_folder_is_one_set_in_name_order(tmp_path: Path, sample_old: Path) -> None:
    pdf_makers.subset(sample_old, [1], tmp_path / "b.pdf")
    pdf_makers.subset(sample_old, [0], tmp_path / "a.pdf")
    (tmp_path / "notes.txt").write_text("not a drawing")
    pages = documents.list_pages([tmp_path])
    assert [Path(p.path).name for p in pages] == ["a.pdf", "b.pdf"]
    assert [p.set_index for p in pages] == [0, 1]


def test_image_page_size_follows_its_dpi_tag(tmp_path: Path) -> None:
    from PIL import Image

    img = np.full((300, 600), 255, np.uint8)
    cv2.line(img, (10, 10), (590, 290), 0, 3)
    Image.fromarray(img).save(tmp_path / "tagged.png", dpi=(150, 150))
    cv2.imwrite(str(tmp_path / "untagged.png"), img)
    tagged, untagged = documents.list_pages([tmp_path / "tagged.png", tmp_path / "untagged.png"])
    with documents.open_page(tagged, CompareSettings()) as page:
        assert page.size == pytest.approx((288.0, 144.0))  # 600 px at 150 dpi = 4 in
        assert page.is_scan
        assert page.render_gray(150).shape == (300, 600)
    with documents.open_page(untagged, CompareSettings()) as page:
        assert page.size == pytest.approx((600.0, 300.0))  # untagged: 72 dpi, 1 px = 1 pt
        assert page.render_gray(72).shape == (300, 600)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("make, error, words", [
    (lambda d, s: pdf_makers.truncated(s, d / "truncated.pdf"), CorruptFileError, "damaged"),
    (lambda d, s: pdf_makers.truncated(s, d / "stub.pdf", fraction=0.005), CorruptFileError, "truncated"),
    (lambda d, s: pdf_makers.zero_pages(d / "empty.pdf"), EmptyDocumentError, "no pages"),
    (lambda d, s: _write(d / "zero.pdf", b""), EmptyDocumentError, "0 bytes"),
    (lambda d, s: _write(d / "junk.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40), CorruptFileError, "damaged"),
    (lambda d, s: _write(d / "notes.docx", b"PK\x03\x04 not a drawing"), UnsupportedFileError,
     "Export the drawings to PDF"),
    (lambda d, s: d / "missing.pdf", BadInputError, "no such file"),
])
def test_bad_files_raise_clear_errors(tmp_path: Path, sample_old: Path, make, error, words) -> None:
    path = make(tmp_path, sample_old)
    with pytest.raises(error) as info:
        documents.list_pages([path])
    assert str(path) in str(info.value) and words in str(info.value)
    assert info.value.exit_code == ExitCode.bad_input


def test_truncated_pdf_fails_even_if_mupdf_repairs_the_header(tmp_path: Path, sample_old: Path) -> None:
    """A PDF cut at 90 % opens after repair; then a page cannot be read, which is reported per page."""
    path = pdf_makers.truncated(sample_old, tmp_path / "cut.pdf", fraction=0.9)
    try:
        pages = documents.list_pages([path])
    except CorruptFileError as exc:
        assert "cut.pdf" in str(exc)
        return
    with pytest.raises(CorruptFileError, match="cut.pdf"):
        for p in pages:
            with documents.open_page(p, CompareSettings()) as page:
                page.render_gray(20)
                page.words()


def test_encrypted_pdf_needs_its_password(tmp_path: Path, sample_old: Path) -> None:
    path = pdf_makers.encrypted(sample_old, tmp_path / "locked.pdf", "s3cret")
    with pytest.raises(EncryptedFileError, match="password-protected"):
        documents.list_pages([path])
    with pytest.raises(EncryptedFileError, match="does not open"):
        documents.list_pages([path], password="wrong")
    pages = documents.list_pages([path], password="s3cret")
    with documents.open_page(pages[0], CompareSettings(password="s3cret")) as page:
        assert any(w.text == "AF101" for w in page.words())


def test_dpi_is_lowered_for_huge_pages_and_refused_past_pdf_limits() -> None:
    settings = CompareSettings(dpi=300)
    dpi = documents.choose_dpi([(60 * 72, 42 * 72)], settings)
    assert dpi < 300
    assert (60 * dpi) * (42 * dpi) <= settings.max_pixels
    with pytest.raises(PageTooLargeError):
        documents.choose_dpi([(300 * 72, 10 * 72)], settings)


def test_settings_are_validated_before_work() -> None:
    with pytest.raises(BadInputError, match="--dpi"):
        CompareSettings(dpi=5)
    assert CompareSettings().key() == CompareSettings(password="x").key()  # the password is no result input
    assert CompareSettings().key() != CompareSettings(dpi=200).key()


def _fingerprints(path: Path) -> list[str | None]:
    out = []
    for ref in documents.list_pages([path]):
        with documents.open_page(ref, CompareSettings()) as page:
            out.append(documents.content_fingerprint(page))
    return out


def test_fingerprint_knows_a_page_carried_into_another_file(tmp_path: Path, sample_old: Path) -> None:
    forward = _fingerprints(pdf_makers.subset(sample_old, [0, 1], tmp_path / "forward.pdf"))
    backward = _fingerprints(pdf_makers.subset(sample_old, [1, 0], tmp_path / "backward.pdf"))
    assert None not in forward and forward[0] != forward[1]
    assert backward == forward[::-1]  # same pages, other object numbers and order


def test_fingerprint_gives_up_on_pages_with_too_many_objects(tmp_path: Path, sample_old: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "FINGERPRINT_MAX_OBJECTS", 5)  # the sample's sheets have 40-80
    assert _fingerprints(pdf_makers.subset(sample_old, [0], tmp_path / "one.pdf")) == [None]


def test_fingerprint_changes_with_what_the_page_draws(tmp_path: Path, sample_old: Path) -> None:
    base = _fingerprints(pdf_makers.subset(sample_old, [0], tmp_path / "base.pdf"))[0]
    pdf_makers.retype_word(sample_old, tmp_path / "retyped.pdf", 0, "AF101", "AF101")
    pdf_makers.retype_word(sample_old, tmp_path / "changed.pdf", 0, "AF101", "AF102")
    retyped, changed = _fingerprints(tmp_path / "retyped.pdf")[0], _fingerprints(tmp_path / "changed.pdf")[0]
    assert len({base, retyped, changed}) == 3

    with pymupdf.open(tmp_path / "base.pdf") as doc:  # a markup is drawn too, so it counts
        doc[0].add_rect_annot(pymupdf.Rect(100, 100, 300, 200))
        doc.save(tmp_path / "marked.pdf")
    with pymupdf.open(tmp_path / "base.pdf") as doc:
        doc[0].set_rotation(90)
        doc.save(tmp_path / "rotated.pdf")
    assert _fingerprints(tmp_path / "marked.pdf")[0] not in (base, None)
    assert _fingerprints(tmp_path / "rotated.pdf")[0] not in (base, None)


def test_words_of_a_rotated_page_are_where_it_renders_them(tmp_path: Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=600, height=400)
    page.insert_text((100, 100), "ROTATED NOTE ON A DRAWING", fontsize=20)
    page.set_rotation(90)
    doc.save(tmp_path / "rotated.pdf")
    doc.close()
    ref = documents.list_pages([tmp_path / "rotated.pdf"])[0]
    for rendered_first in (False, True):  # the text of a page not yet rendered comes another way
        with documents.open_page(ref, CompareSettings()) as opened:
            img = opened.render_gray(72) if rendered_first else None
            words = {w.text: w.box for w in opened.words()}
            img = opened.render_gray(72) if img is None else img
        assert opened.size == pytest.approx((400.0, 600.0))
        x0, y0, x1, y1 = (round(v) for v in words["ROTATED"])
        assert y1 - y0 > x1 - x0  # the word runs down the rotated sheet
        ink = (img < 128).sum()
        assert (img[y0:y1, x0:x1] < 128).sum() > 0.2 * ink  # "ROTATED" is a quarter of the ink
