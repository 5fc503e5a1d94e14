"""Conversions between database rows and the engine's objects, for the stages and the reports."""
from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from sqlalchemy.orm import Session, defer

from buildtrace_desktop.db.models import ChangeRow, Sheet, SheetPair, StoredFile
from buildtrace_desktop.processing.types import Alignment, Change, PageRef, PairResult, SheetInfo


def sheet_key_of(sheet: Sheet) -> str:
    """Cache key of a page: its file's content hash and page index."""
    return f"{sheet.file_sha}:{sheet.page_index}"


def page_ref(session: Session, app: Any, sheet: Sheet, memo: dict | None = None) -> PageRef:
    return page_ref_of(session, app, sheet.file_sha, sheet.page_index, sheet.set_index, sheet.kind, memo)


def page_ref_of(session: Session, app: Any, sha: str, page_index: int, set_index: int, kind: str,
              memo: dict | None) -> PageRef:
    stored = stored_file_info(session, sha, memo)
    suffix = stored[0] if stored is not None else ""
    return PageRef(str(app.store.path_for(sha, suffix)), page_index, set_index, kind)


def stored_file_info(session: Session, sha: str, memo: dict | None) -> tuple[str, str] | None:
    """(suffix, original name) of a stored file; a stored file never changes, so a job reads it once."""
    memo = {} if memo is None else memo
    key = ("stored_file", sha)
    if key not in memo:
        stored = session.get(StoredFile, sha)
        memo[key] = (stored.suffix, stored.original_name) if stored is not None else None
    return memo[key]


# Columns a report or a warning never needs; their JSON (a thumbnail is 3,000 numbers) cost more to
# decode than the rest of a sheet row. Queries that build reports load rows without them.
HEAVY_SHEET_COLUMNS = (defer(Sheet.thumbnail_json), defer(Sheet.ocr_words_json))


def sheet_info(sheet: Sheet, light: bool = False) -> SheetInfo:
    """`light`: without the thumbnail and OCR words (the row was loaded without them)."""
    """The engine's view of a sheet row, with the user's corrections taking precedence."""
    number_source = "user" if sheet.user_number else sheet.number_source
    return SheetInfo(
        set_index=sheet.set_index,
        sheet_number=sheet.effective_number,
        title=sheet.effective_title,
        number_source=number_source,
        page_size=(sheet.width_pt or 0.0, sheet.height_pt or 0.0),
        has_text_layer=bool(sheet.has_text_layer),
        thumbnail=None if light else sheet.thumbnail_json,
        number_candidates=list(sheet.number_candidates_json or []),
        ocr_words=[] if light else list(sheet.ocr_words_json or []),
    )


def pair_result_to_json(result: PairResult) -> dict[str, Any]:
    """The cached form of a pair's result. Field by field, not `asdict`: that deep-copies both
    thumbnails' 3,000 numbers one by one, which cost more than the rest of the stage's commit."""
    data = {f.name: getattr(result, f.name) for f in fields(result)}
    data["alignment"] = asdict(result.alignment)
    data["changes"] = [dict(vars(c), bbox=list(c.bbox)) for c in result.changes]
    return data


def pair_result_from_json(data: dict[str, Any]) -> PairResult:
    changes = [Change(**{**c, "bbox": tuple(c["bbox"])}) for c in data.get("changes", [])]
    fields = {k: v for k, v in data.items() if k not in ("alignment", "changes")}
    return PairResult(alignment=Alignment(**data["alignment"]), changes=changes, **fields)


def pair_result_from_rows(pair: SheetPair, changes: list[ChangeRow]) -> PairResult:
    """Rebuild the engine's result of a pair from its stored rows (for reports)."""
    alignment = Alignment(pair.matrix_json or Alignment.identity().matrix, pair.confidence or 0.0,
                          pair.align_method or "failed")
    return PairResult(
        alignment=alignment,
        changes=[
            Change(kind=c.kind, bbox=c.bbox, area=c.area, text_removed=list(c.text_removed or []),
                   text_added=list(c.text_added or []), added_px=c.added_px, removed_px=c.removed_px,
                   what=c.what or "", cloud=c.cloud, group=c.group_id, tag=c.tag)
            for c in changes
        ],
        dpi=pair.dpi or 0.0,
        warnings=list(pair.warnings_json or []),
        text_source=pair.text_source or "none",
        overlay_png=pair.overlay_path,
        side_by_side_png=pair.side_by_side_path,
        seconds=pair.seconds or 0.0,
        location_context=pair.location_context_json,
        clouds=list(pair.clouds_json or []),
        groups=list(pair.groups_json or []),
    )
