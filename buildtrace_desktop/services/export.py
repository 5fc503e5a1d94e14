"""Export a stored comparison: rebuild the engine's objects from the database rows and write the report.

Writes into `out_dir`: report.json (REPORT_FORMAT.md, plus review status and note per change),
changes.csv (with review status), the overlay and side-by-side PNGs, report.pdf.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from buildtrace_desktop.db.models import ChangeRow, Comparison, SetFile, Sheet, SheetPair
from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.jobs.rows import HEAVY_SHEET_COLUMNS, pair_result_from_rows, sheet_info
from buildtrace_desktop.processing.types import PairResult, SheetInfo, SheetMatch
from buildtrace_desktop.services.app import AppContext
from buildtrace_desktop.storage import atomic_copy


def export_comparison(app: AppContext, comparison_id: int, out_dir: str | Path,
                      summary: dict | None = None) -> Path:
    """Write the comparison's report files into `out_dir`; return the path of report.json. The report
    carries `summary`, or else the newest stored summary of the comparison."""
    from buildtrace_desktop.processing import report as report_mod  # late: pulls in PyMuPDF
    from buildtrace_desktop.services.summaries import report_summary  # late: summaries imports this module

    if summary is None:
        summary = report_summary(app, comparison_id)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report, results = build_comparison_report(app, comparison_id, summary, image_dir=out)
    report_mod.write_outputs(out, report, results)
    return out / "report.json"


def build_comparison_report(
    app: AppContext, comparison_id: int, summary: dict | None = None, image_dir: str | Path | None = None
) -> tuple[dict, dict[tuple[int | None, int | None], PairResult]]:
    """The report dict (and the pair results it was built from) of a finished comparison.

    With `image_dir`, each pair's PNGs are copied there under the sheet's name (`AF101_overlay.png`)."""
    from buildtrace_desktop.processing.report import build_report

    with app.db.read() as s:
        comparison = s.get(Comparison, comparison_id)
        if comparison is None:
            raise BadInputError(f"There is no comparison with id {comparison_id}.")
        if comparison.status != "done":
            raise BadInputError(f"Comparison {comparison_id} is {comparison.status}, not finished: "
                                "run or retry its job first.")
        old_sheets = _sheets(s, comparison.old_set_id)
        new_sheets = _sheets(s, comparison.new_set_id)
        pairs = list(s.scalars(select(SheetPair).where(SheetPair.comparison_id == comparison_id)
                               .order_by(SheetPair.ordinal)))
        by_id = {sh.id: sh for sh in old_sheets + new_sheets}
        changes_of: dict[int, list[ChangeRow]] = {}  # one query for every pair's changes, not one per pair
        for change in s.scalars(select(ChangeRow).join(SheetPair, SheetPair.id == ChangeRow.pair_id)
                                .where(SheetPair.comparison_id == comparison_id)
                                .order_by(ChangeRow.pair_id, ChangeRow.ordinal)):
            changes_of.setdefault(change.pair_id, []).append(change)
        matches, results, reviews = [], {}, {}
        for pair in pairs:
            old_index = by_id[pair.old_sheet_id].set_index if pair.old_sheet_id else None
            new_index = by_id[pair.new_sheet_id].set_index if pair.new_sheet_id else None
            matches.append(SheetMatch(pair.status, old_index, new_index, pair.match_method, pair.renumbered,
                                      pair.match_confidence if pair.match_confidence is not None else 1.0,
                                      pair.old_number, pair.new_number, pair.old_title, pair.new_title,
                                      list(pair.match_notes_json or [])))
            _apply_user_corrections(matches[-1], by_id.get(pair.old_sheet_id), by_id.get(pair.new_sheet_id))
            if pair.diff_state == "done":
                changes = changes_of.get(pair.id, [])
                result = pair_result_from_rows(pair, changes)
                if image_dir is not None:
                    _copy_images(result, Path(image_dir), _image_stem(by_id[pair.new_sheet_id], pair.ordinal))
                results[(old_index, new_index)] = result
                reviews[(old_index, new_index)] = changes
        old_set = _set_descriptor(s, app, comparison.old_set_id, len(old_sheets))
        new_set = _set_descriptor(s, app, comparison.new_set_id, len(new_sheets))
        old_infos = [_info(sh) for sh in old_sheets]
        new_infos = [_info(sh) for sh in new_sheets]
    report = build_report(old_set, new_set, old_infos, new_infos, matches, results, summary)
    report["comparison_id"] = comparison_id
    report["warnings"] = list(comparison.warnings_json or [])
    _add_reviews(report, reviews)
    return report, results


def _apply_user_corrections(match: SheetMatch, old: Sheet | None, new: Sheet | None) -> None:
    """A number or title the user typed wins over what matching read."""
    if old is not None and old.user_number:
        match.old_number = old.user_number
    if old is not None and old.user_title:
        match.old_title = old.user_title
    if new is not None and new.user_number:
        match.new_number = new.user_number
    if new is not None and new.user_title:
        match.new_title = new.user_title


def _image_stem(sheet: Sheet, ordinal: int) -> str:
    label = sheet.effective_number or f"sheet_{sheet.set_index + 1:03d}"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "sheet"
    return f"{ordinal + 1:03d}_{safe}"


def _copy_images(result: PairResult, folder: Path, stem: str) -> None:
    """Copy the pair's PNGs (kept in the results cache) to `folder` and point the result at the copies."""
    for attr, suffix in (("overlay_png", "_overlay.png"), ("side_by_side_png", "_side_by_side.png")):
        source = getattr(result, attr)
        if source and Path(source).is_file():
            setattr(result, attr, str(atomic_copy(source, folder / (stem + suffix))))


def _sheets(session: Session, set_id: int) -> list[Sheet]:
    """A set's sheets without their thumbnails and OCR words, which no report needs."""
    return list(session.scalars(select(Sheet).where(Sheet.set_id == set_id).order_by(Sheet.set_index)
                                .options(*HEAVY_SHEET_COLUMNS)))


def _info(sheet: Sheet) -> SheetInfo:
    return sheet_info(sheet, light=True)


def _set_descriptor(session: Session, app: AppContext, set_id: int, pages: int) -> dict[str, Any]:
    """{"path", "sha256", "pages"}: the file itself for a one-file set, else the files' common folder and a
    hash of their hashes."""
    files = list(session.scalars(select(SetFile).where(SetFile.set_id == set_id).order_by(SetFile.position)))
    if len(files) == 1:
        return {"path": files[0].original_path, "sha256": files[0].file_sha, "pages": pages}
    paths = [f.original_path for f in files]
    folder = os.path.commonpath(paths) if paths else ""
    digest = hashlib.sha256("\n".join(f.file_sha for f in files).encode()).hexdigest()
    return {"path": folder, "sha256": digest, "pages": pages}


def _add_reviews(report: dict, reviews: dict[tuple[int | None, int | None], list[ChangeRow]]) -> None:
    """Review status and note of each change, matched by order (the report keeps the engine's order)."""
    for sheet in report["sheets"]:
        rows = reviews.get((sheet["old_page"], sheet["new_page"]))
        if not rows or len(rows) != len(sheet.get("changes", [])):
            continue
        for entry, row in zip(sheet["changes"], rows, strict=True):
            entry["change_id"] = row.id
            entry["review_status"] = row.review_status
            entry["note"] = row.note or ""
