"""The comparison engine as a table of contents: small named stages, each pure.

    pages = list_pages(paths)                    # triage: files -> pages, bad input raises
    infos = [read_sheet(p, settings) ...]        # "ocr" stage, per page
    matches = match_sheets(old_infos, new_infos) # by number, then title, then looks
    result = compare_pair(old, new, settings)    # "diff" stage, per matched pair: align, diff, text, overlay
    build_report(...) / write_outputs(...)       # report.json, changes.csv, PNGs, report.pdf

The job layer (jobs/) runs these and persists what they return; the CLI and GUI call the job layer.
"""
from __future__ import annotations

import time
from pathlib import Path

from buildtrace_desktop.processing import (
    align,
    diff,
    documents,
    overlay,
    review_units,
    sheets,
    summary,
    text_lines,
    textdiff,
    what,
    wordcheck,
)
from buildtrace_desktop.processing.types import Alignment, CompareSettings, PageRef, PairResult, SheetInfo

list_pages = documents.list_pages
match_sheets = sheets.match_sheets


def read_sheet(page: PageRef, settings: CompareSettings, with_thumbnail: bool = True) -> SheetInfo:
    """Sheet number, title, page size and a thumbnail of one page (Tesseract on the title block for scans)."""
    return sheets.read_sheet(page, settings, with_thumbnail)


def compare_pair(
    old: PageRef,
    new: PageRef,
    settings: CompareSettings,
    out_dir: str | Path | None = None,
    name: str | None = None,
    thumbnails: bool = False,
) -> PairResult:
    """Align, diff and text-diff one sheet pair. With `out_dir`, also write `<name>_overlay.png` and
    `<name>_side_by_side.png` there; with `thumbnails`, make both pages' thumbnails. Holds one pair of
    page images in memory at a time."""
    started = time.perf_counter()
    with documents.open_page(old, settings) as old_page, documents.open_page(new, settings) as new_page:
        old_print = documents.content_fingerprint(old_page)
        identical = old_print is not None and old_print == documents.content_fingerprint(new_page)
        rendered = (new_page,) if identical else (old_page, new_page)
        for page in rendered:  # interpret each rendered page once, and let its text replay that
            page.display_list()
        native = [p.image_dpi for p in rendered if p.is_scan]
        dpi = documents.choose_dpi([old_page.size, new_page.size], settings, native)
        new_img = new_page.render_gray(dpi)
        if identical:  # the same drawing, object for object: nothing to align, nothing can differ
            if new_page.is_scan:
                new_img = diff.prepare_scan(new_img)
            alignment, old_aligned, changes, text_source = Alignment.identity(), new_img, [], "none"
            clouds = []
        else:
            alignment, old_aligned, new_img, changes, clouds, text_source = _align_and_diff(
                old_page, new_page, new_img, dpi, settings)
        looks = review_units.mark_looks(changes, old_aligned, new_img, dpi)
        changes, clouds, groups = review_units.organise(changes, clouds, new_page.size, looks)
        result = PairResult(alignment=alignment, changes=changes, dpi=dpi, text_source=text_source,
                            clouds=clouds, groups=groups)
        if changes:  # the page's words are at hand now (the text diff read them)
            result.location_context = summary.location_context(
                [(*w.box, w.text) for w in new_page.words()], new_page.size, [c.bbox for c in changes])
        if dpi < min([settings.dpi, *(n for n in native if n)]):
            w_in, h_in = (max(o, n) / 72.0 for o, n in zip(old_page.size, new_page.size, strict=True))
            result.warnings.append(
                f"large sheet ({w_in:.0f} x {h_in:.0f} in): compared at {dpi:.0f} dpi instead of {settings.dpi:.0f} "
                "to stay within memory; very small changes may be missed"
            )
        if alignment.confidence < settings.min_confidence:
            result.warnings.append(
                f"low-confidence alignment ({alignment.confidence:.2f}, {alignment.method}): "
                "check the overlay before trusting these changes"
            )
        if out_dir is not None or thumbnails:
            old_small, new_small, small_dpi = overlay.picture_images(old_aligned, new_img, dpi, settings)
        if thumbnails:  # from the pictures' images; the old one only when it is the old page as it is
            result.new_thumbnail = sheets.thumbnail_of(new_small)
            result.old_thumbnail = sheets.thumbnail_of(old_small) if alignment.method == "identity" \
                else sheets.render_thumbnail(old_page)
        if out_dir is not None:
            stem = Path(out_dir) / (name or f"sheet_{new.set_index + 1:03d}")
            result.overlay_png, result.side_by_side_png = overlay.write_pair_images(
                old_small, new_small, changes, small_dpi, stem
            )
    result.seconds = time.perf_counter() - started
    return result


def _align_and_diff(old_page, new_page, new_img, dpi: float, settings: CompareSettings):
    """Align the old page to the new image, diff them and read the changed text. Returns the alignment,
    both images as the pictures show them, the changes and the text source."""
    alignment, old_aligned = align.align_pages(old_page, new_page, new_img, dpi)
    if new_page.is_scan:
        new_img = diff.prepare_scan(new_img)
    if old_page.is_scan:
        old_aligned = diff.prepare_scan(old_aligned)
    scanned = old_page.is_scan or new_page.is_scan
    resampled = alignment.method != "identity"
    params = diff.params_for(dpi, scanned, resampled)
    valid = align.valid_mask(old_page.size, alignment.matrix, dpi, new_img.shape, params.tolerance_px + 2)
    words_px = _rendered_word_boxes(old_page, new_page, alignment, dpi) if scanned else \
        _retyped_word_boxes(old_page, new_page, alignment, dpi)
    regions = diff.diff_images(old_aligned, new_img, dpi, old_page.is_scan, new_page.is_scan, valid, resampled,
                               words_px, _chroma(old_page, new_page, alignment, dpi, new_img.shape),
                               (1.0, UNTAGGED_RASTER_DPI / documents.UNTAGGED_DPI) if old_page.untagged or new_page.untagged else (1.0,))
    changes = diff.regions_to_changes(regions, dpi)
    text_source = textdiff.attach_text(changes, old_page, new_page, alignment, new_img, dpi, settings)
    changes = text_lines.join_text_lines(changes)
    for change in changes:
        change.what = what.describe(change)
    clouds = _cloud_entries(regions, changes, old_page, new_page, alignment, dpi, settings)
    return alignment, old_aligned, new_img, changes, clouds, text_source


# A raster without a resolution tag is read as documents.UNTAGGED_DPI; drawings are exported at 150-300.
UNTAGGED_RASTER_DPI = 300.0


def _chroma(old_page, new_page, alignment, dpi: float, shape: tuple[int, int]):
    """(old, new) chroma images in the new image's frame when either page is a colour scan (its revision
    marks are coloured, and clouds are looked for in that colour too); None otherwise."""
    if not (old_page.is_colour or new_page.is_colour):
        return None
    identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    return (old_page.render_chroma_transformed(alignment.matrix, dpi, shape),
            new_page.render_chroma_transformed(identity, dpi, shape))


def _cloud_entries(regions, changes, old_page, new_page, alignment, dpi: float, settings: CompareSettings) -> list[dict]:
    """The revision clouds among the regions, each with its own change's id, its outline (new-page
    points) and its tag's text: from the text layer of the page that has the cloud, or OCR."""
    k = 72.0 / dpi
    by_box = {tuple(round(v, 3) for v in c.bbox): i for i, c in enumerate(changes, start=1)}
    out = []
    for region in (r for r in regions if r.cloud):
        box = tuple(round(float(v) * k, 3) for v in region.box_px)
        change_id = by_box.get(box)
        if change_id is None:
            continue
        tag = None
        if region.tag_px is not None:
            tag_box = tuple(v * k for v in region.tag_px)
            page = new_page if region.cloud == "added" else old_page
            tag = textdiff.tag_text(page, tag_box, alignment if page is old_page else None, settings)
        changes[change_id - 1].tag = tag
        out.append({"id": len(out) + 1, "bbox": [round(v, 2) for v in box], "tag": tag, "status": region.cloud,
                    "change": change_id, "outline": tuple(float(v) * k for v in region.outline_px)})
    return out


def _rendered_word_boxes(old_page, new_page, alignment, dpi: float) -> list[tuple[float, float, float, float]] | None:
    """Word boxes in new-image pixels from the page of a scanned pair that has a text layer, if one has."""
    if old_page.has_text:
        words = textdiff.mapped_words(old_page.words(), alignment.matrix)
    elif new_page.has_text:
        words = new_page.words()
    else:
        return None
    k = dpi / 72.0
    return [(w.box[0] * k, w.box[1] * k, w.box[2] * k, w.box[3] * k) for w in words]


def _retyped_word_boxes(old_page, new_page, alignment, dpi: float) -> list[tuple[float, float, float, float]] | None:
    """Boxes in new-image pixels of the words one text layer has and the other has not at that place."""
    if not (old_page.has_text and new_page.has_text):
        return None
    old_words, new_words = wordcheck.unmatched_words(textdiff.mapped_words(old_page.words(), alignment.matrix),
                                                     new_page.words())
    k = dpi / 72.0
    return [(w.box[0] * k, w.box[1] * k, w.box[2] * k, w.box[3] * k) for w in old_words + new_words]


def compare_sets(
    old_paths: list[str],
    new_paths: list[str],
    settings: CompareSettings,
    out_dir: str | Path,
    progress=None,
) -> dict:
    """The whole engine in one process, no database: for benchmarks and the engine's own tests.

    The CLI and the GUI go through the job layer instead, which runs the same stages, persists them and
    resumes after a crash.
    """
    from buildtrace_desktop.processing import report as report_mod
    from buildtrace_desktop.processing.types import sha256_file

    old_pages = list_pages(old_paths, settings.password)
    new_pages = list_pages(new_paths, settings.password)
    old_infos = [read_sheet(p, settings) for p in old_pages]
    new_infos = [read_sheet(p, settings) for p in new_pages]
    matches = match_sheets(old_infos, new_infos)
    results = {}
    for m in matches:
        if m.status != "matched":
            continue
        name = _pair_name(new_infos[m.new_index])
        results[(m.old_index, m.new_index)] = compare_pair(old_pages[m.old_index], new_pages[m.new_index],
                                                           settings, out_dir, name)
        if progress:
            progress(m, results[(m.old_index, m.new_index)])

    def set_meta(paths: list[str], pages: list[PageRef]) -> dict:
        first = Path(paths[0])
        return {"path": str(first), "sha256": sha256_file(first) if first.is_file() else None, "pages": len(pages)}

    report = report_mod.build_report(set_meta(old_paths, old_pages), set_meta(new_paths, new_pages),
                                     old_infos, new_infos, matches, results)
    report_mod.write_outputs(out_dir, report, results)
    return report


def _pair_name(info: SheetInfo) -> str:
    """File stem for a pair's pictures: the sheet number where there is one, safe for every OS."""
    import re

    label = info.sheet_number or f"page{info.set_index + 1:03d}"
    return f"{info.set_index + 1:03d}_" + re.sub(r"[^A-Za-z0-9._-]+", "_", label)
