"""The stages of a job: what each one computes (`prepare` -> `Work`) and the rows it writes (`commit`).

`Work.fn(*Work.args)` is the pure, heavy part (read_sheet, compare_pair). The runner sends it to a worker
process; everything that touches the database happens in `prepare` and `commit`, in the runner's threads.
`commit` runs in the same transaction that marks the stage done, and deletes before it inserts, so a
stage re-run after a crash cannot duplicate rows.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased, defer

from buildtrace_desktop.db.models import (
    ChangeRow,
    Comparison,
    Job,
    JobStage,
    PairResultCache,
    Sheet,
    SheetPair,
    utcnow,
)
from buildtrace_desktop.errors import BuildTraceError, ExitCode
from buildtrace_desktop.jobs import plans
from buildtrace_desktop.jobs.memory import budget_for_workers, pair_memory_mb
from buildtrace_desktop.jobs.processes import read_sheets, run_compare_pair
from buildtrace_desktop.jobs.rows import (
    HEAVY_SHEET_COLUMNS,
    page_ref,
    page_ref_of,
    pair_result_from_json,
    pair_result_to_json,
    sheet_info,
    sheet_key_of,
    stored_file_info,
)
from buildtrace_desktop.processing.types import (
    CompareSettings,
    PageRef,
    PairResult,
    SheetInfo,
    SheetMatch,
)


@dataclass
class StageFunctions:
    """The engine functions the stages call. Tests may inject stand-ins (module-level, so picklable)."""

    read_sheet: Callable[[PageRef, CompareSettings], SheetInfo]
    match_sheets: Callable[..., list[SheetMatch]]  # (old infos, new infos, thumbnail, reread)
    compare_pair: Callable[..., PairResult]

    @classmethod
    def engine(cls) -> StageFunctions:
        from buildtrace_desktop.processing import pipeline  # imported late: heavy (cv2, numpy)

        return cls(pipeline.read_sheet, pipeline.match_sheets, pipeline.compare_pair)


@dataclass
class StageContext:
    """What a stage needs: the app, snapshots of its job and stage rows, the settings, the engine."""

    app: Any  # services.app.AppContext (not imported: jobs/ sits below services/)
    job: Job
    stage: JobStage
    settings: CompareSettings
    functions: StageFunctions
    # Rows every stage of the job reads and none changes while it runs (the comparison's sets, stored
    # files): read once per job instead of once per stage.
    memo: dict[Any, Any] = field(default_factory=dict)


@dataclass
class Work:
    """`fn(*args)` if `fn` is set (in a worker process when `heavy`), else `output` is already known."""

    fn: Callable[..., Any] | None = None
    args: tuple = ()
    heavy: bool = True
    output: Any = None
    memory_mb: float = 0.0  # what the call adds to a worker process's memory (jobs.memory), if known
    context: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- sheet stage


def _set_id_for(session: Session, ctx: StageContext) -> int:
    name, parts = plans.parse_key(ctx.stage.key)
    if ctx.job.kind == "ingest":
        return int(ctx.job.set_id)
    old_set_id, new_set_id = _comparison_sets(session, ctx)
    return old_set_id if parts[0] == "old" else new_set_id


def _comparison_sets(session: Session, ctx: StageContext) -> tuple[int, int]:
    """The comparison's old and new set ids (fixed for its life: read once per job)."""
    if "sets" not in ctx.memo:
        comparison = session.get(Comparison, ctx.job.comparison_id)
        ctx.memo["sets"] = (comparison.old_set_id, comparison.new_set_id)
    return ctx.memo["sets"]


def _sheets_for_stage(session: Session, ctx: StageContext) -> list[tuple[int, int, str, int, str]]:
    """(id, set index, file sha, page index, kind) of the stage's sheets not read yet (another job, the
    set's ingest, may have read some meanwhile)."""
    indexes = plans.sheet_indexes(ctx.stage.key)
    return list(session.execute(
        select(Sheet.id, Sheet.set_index, Sheet.file_sha, Sheet.page_index, Sheet.kind)
        .where(Sheet.set_id == _set_id_for(session, ctx), Sheet.set_index.between(indexes[0], indexes[-1]),
               Sheet.read_at.is_(None)).order_by(Sheet.set_index)))


def prepare_sheet(session: Session, ctx: StageContext) -> Work:
    sheets = _sheets_for_stage(session, ctx)
    if not sheets:  # read meanwhile: nothing to do
        return Work(output=[], context={"sheet_ids": []})
    with_thumbnail = ctx.job.kind == "ingest"  # a comparison makes them in its match and diff stages (cheaper)
    refs = [page_ref_of(session, ctx.app, sha, page, index, kind, ctx.memo) for _, index, sha, page, kind in sheets]
    return Work(read_sheets, (ctx.functions.read_sheet, refs, ctx.settings, with_thumbnail),
                context={"sheet_ids": [row[0] for row in sheets]})


def commit_sheet(session: Session, ctx: StageContext, work: Work, infos: list[SheetInfo]) -> None:
    now = utcnow()
    for sheet_id, info in zip(work.context["sheet_ids"], infos, strict=True):
        values = dict(sheet_number=info.sheet_number, title=info.title, number_source=info.number_source,
                      width_pt=float(info.page_size[0]), height_pt=float(info.page_size[1]),
                      has_text_layer=info.has_text_layer, number_candidates_json=info.number_candidates,
                      ocr_words_json=info.ocr_words, read_at=now)
        if info.thumbnail is not None:
            values["thumbnail_json"] = info.thumbnail
        session.execute(update(Sheet.__table__).where(Sheet.__table__.c.id == sheet_id).values(**values))


def _original_name(session: Session, sheet: Sheet, memo: dict | None = None) -> str:
    stored = stored_file_info(session, sheet.file_sha, memo)
    name = stored[1] if stored else sheet.file_sha[:12]
    return f"{name}, page {sheet.page_index + 1}"


# ---------------------------------------------------------------- match stage


def _sets_sheets(session: Session, comparison: Comparison, light: bool = False) -> tuple[list[Sheet], list[Sheet]]:
    def of(set_id: int) -> list[Sheet]:
        query = select(Sheet).where(Sheet.set_id == set_id).order_by(Sheet.set_index)
        return list(session.scalars(query.options(*HEAVY_SHEET_COLUMNS) if light else query))

    return of(comparison.old_set_id), of(comparison.new_set_id)


def prepare_match(session: Session, ctx: StageContext) -> Work:
    comparison = session.get(Comparison, ctx.job.comparison_id)
    old, new = _sets_sheets(session, comparison)
    infos = {"old": [sheet_info(s) for s in old], "new": [sheet_info(s) for s in new]}
    refs = {"old": {s.set_index: page_ref(session, ctx.app, s, ctx.memo) for s in old},
            "new": {s.set_index: page_ref(session, ctx.app, s, ctx.memo) for s in new}}
    settings = ctx.settings

    def thumbnail(side: str, set_index: int) -> list[list[int]] | None:
        from buildtrace_desktop.processing import documents, sheets  # the engine, in this thread

        try:
            with documents.open_page(refs[side][set_index], settings) as opened:
                return sheets.render_thumbnail(opened)
        except BuildTraceError:
            return None  # an unreadable page is not matched by looks; its diff reports the damage

    def reread(side: str, set_index: int, boxes: list[tuple[tuple[float, float, float, float], float]]) -> list[str]:
        from buildtrace_desktop.processing import sheets  # the engine, in this thread

        try:
            return sheets.read_words_in(refs[side][set_index], settings, boxes)
        except BuildTraceError:
            return []  # unreadable, or Tesseract failed: the sheet is paired on the rest of the evidence

    # Matching by looks fills in the thumbnails it renders; commit_match stores them with the sheets.
    return Work(ctx.functions.match_sheets, (infos["old"], infos["new"], thumbnail, reread), heavy=False,
                context={"infos": infos})


def commit_match(session: Session, ctx: StageContext, work: Work, matches: list[SheetMatch]) -> None:
    comparison = session.get(Comparison, ctx.job.comparison_id)
    old, new = _sets_sheets(session, comparison)
    old_by_index = {s.set_index: s for s in old}
    new_by_index = {s.set_index: s for s in new}
    for side, by_index in (("old", old_by_index), ("new", new_by_index)):
        for info in work.context["infos"][side]:
            sheet = by_index.get(info.set_index)
            if sheet is not None and sheet.thumbnail_json is None and info.thumbnail is not None:
                sheet.thumbnail_json = info.thumbnail
    session.execute(delete(SheetPair).where(SheetPair.comparison_id == comparison.id))
    session.execute(delete(JobStage).where(JobStage.job_id == ctx.job.id, JobStage.name == "diff"))
    rank = _largest_first(matches, old_by_index, new_by_index)
    for ordinal, match in enumerate(matches):
        old_sheet = old_by_index.get(match.old_index) if match.old_index is not None else None
        new_sheet = new_by_index.get(match.new_index) if match.new_index is not None else None
        session.add(SheetPair(
            comparison_id=comparison.id, ordinal=ordinal,
            old_sheet_id=old_sheet.id if old_sheet else None, new_sheet_id=new_sheet.id if new_sheet else None,
            status=match.status, match_method=match.method, renumbered=match.renumbered,
            diff_state="pending" if match.status == "matched" else "none", warnings_json=[],
            match_confidence=match.confidence, match_notes_json=list(match.notes),
            old_number=match.old_number, new_number=match.new_number, old_title=match.old_title,
            new_title=match.new_title,
        ))
        if match.status == "matched":
            session.add(JobStage(job_id=ctx.job.id, name="diff", key=plans.diff_key(match.old_index, match.new_index),
                                 position=plans.DIFF_POSITION_BASE + rank[ordinal]))


def _largest_first(matches: list[SheetMatch], old_by_index: dict[int, Sheet], new_by_index: dict[int, Sheet]
                   ) -> dict[int, int]:
    """Run order of the pairs: largest sheets first, so that no worker is left with a big sheet at the
    end while the others idle (time grows with the sheet's area)."""
    def area(ordinal: int) -> float:
        match = matches[ordinal]
        sheets = [old_by_index.get(match.old_index), new_by_index.get(match.new_index)]
        return max((s.width_pt or 0.0) * (s.height_pt or 0.0) for s in sheets if s is not None)

    order = sorted(range(len(matches)), key=lambda i: (-area(i), i))
    return {ordinal: rank for rank, ordinal in enumerate(order)}


# ---------------------------------------------------------------- diff stage


def _pair_for_stage(session: Session, ctx: StageContext) -> tuple[SheetPair, Sheet, Sheet, bool]:
    """The stage's pair, its two sheets (without their heavy columns) and whether either lacks a thumbnail,
    in one query."""
    _, (old_index, new_index) = plans.parse_key(ctx.stage.key)
    old_set_id, new_set_id = _comparison_sets(session, ctx)
    old_s, new_s = aliased(Sheet), aliased(Sheet)
    pair, old, new, old_bare, new_bare = session.execute(
        select(SheetPair, old_s, new_s, old_s.thumbnail_json.is_(None), new_s.thumbnail_json.is_(None))
        .join(old_s, old_s.id == SheetPair.old_sheet_id).join(new_s, new_s.id == SheetPair.new_sheet_id)
        .where(SheetPair.comparison_id == ctx.job.comparison_id,
               old_s.set_id == old_set_id, old_s.set_index == int(old_index),
               new_s.set_id == new_set_id, new_s.set_index == int(new_index))
        .options(defer(old_s.thumbnail_json), defer(old_s.ocr_words_json), defer(new_s.thumbnail_json),
                 defer(new_s.ocr_words_json))).one()
    return pair, old, new, old_bare or new_bare


def prepare_diff(session: Session, ctx: StageContext) -> Work:
    pair, old, new, thumbnails = _pair_for_stage(session, ctx)
    keys = (sheet_key_of(old), sheet_key_of(new), ctx.settings.key())
    context = {"pair_id": pair.id, "keys": keys, "cached": False, "sheet_ids": (pair.old_sheet_id, pair.new_sheet_id)}
    cached = session.scalars(select(PairResultCache).where(
        PairResultCache.old_key == keys[0], PairResultCache.new_key == keys[1],
        PairResultCache.settings_key == keys[2])).first()
    if cached is not None:
        result = pair_result_from_json(cached.result_json)
        if _images_present(result):
            return Work(output=result, context={**context, "cached": True})
    digest = hashlib.sha256("|".join(keys).encode()).hexdigest()[:24]
    out_dir = Path(ctx.app.config.results_dir) / "pairs" / digest[:2]
    memory_mb = pair_memory_mb([(s.width_pt or 0.0, s.height_pt or 0.0) for s in (old, new)], ctx.settings.dpi,
                               ctx.settings.max_pixels, not (old.has_text_layer and new.has_text_layer))
    # A pair that would not fit twice in the budget leaves its worker's memory to the OS when done, so
    # that the next such pair, in the other worker, finds it there.
    release = memory_mb > budget_for_workers(2) / 2
    return Work(run_compare_pair, (ctx.functions.compare_pair, page_ref(session, ctx.app, old, ctx.memo),
                                   page_ref(session, ctx.app, new, ctx.memo), ctx.settings, str(out_dir), digest,
                                   thumbnails, release),
                context=context, memory_mb=memory_mb)


def _images_present(result: PairResult) -> bool:
    return all(p is None or Path(p).is_file() for p in (result.overlay_png, result.side_by_side_png))


def commit_diff(session: Session, ctx: StageContext, work: Work, result: PairResult) -> None:
    # Core statements on the tables, not ORM objects: the unit of work's flush of one pair's rows cost the
    # main process 4 ms, more than the statements themselves (and on two cores the main process takes its
    # time from the workers).
    pairs, sheets, changes = SheetPair.__table__, Sheet.__table__, ChangeRow.__table__
    pair_id = work.context["pair_id"]
    session.execute(update(pairs).where(pairs.c.id == pair_id).values(
        matrix_json=[list(map(float, row)) for row in result.alignment.matrix],
        confidence=float(result.alignment.confidence), align_method=result.alignment.method,
        dpi=float(result.dpi), text_source=result.text_source, seconds=float(result.seconds),
        warnings_json=list(result.warnings), overlay_path=result.overlay_png,
        side_by_side_path=result.side_by_side_png, location_context_json=result.location_context,
        clouds_json=list(result.clouds), groups_json=list(result.groups), diff_state="done"))
    for sheet_id, thumbnail in zip(work.context["sheet_ids"], (result.old_thumbnail, result.new_thumbnail),
                                   strict=True):
        if thumbnail is not None:  # an UPDATE, not the row: loading it decodes its thumbnail and OCR words
            session.execute(update(sheets).where(sheets.c.id == sheet_id, sheets.c.thumbnail_json.is_(None))
                            .values(thumbnail_json=thumbnail))
    session.execute(delete(changes).where(changes.c.pair_id == pair_id))
    rows = []
    for ordinal, change in enumerate(result.changes):
        x0, y0, x1, y1 = (float(v) for v in change.bbox)
        rows.append(dict(
            pair_id=pair_id, ordinal=ordinal, kind=change.kind, x0=x0, y0=y0, x1=x1, y1=y1,
            area=float(change.area), text_removed=list(change.text_removed), text_added=list(change.text_added),
            added_px=int(change.added_px), removed_px=int(change.removed_px), review_status="open",
            what=change.what or None, cloud=change.cloud, group_id=change.group, tag=change.tag, note=None,
            reviewed_at=None,
        ))
    if rows:
        session.execute(insert(changes), rows)
    if not work.context["cached"]:
        _store_in_cache(session, work.context["keys"], result)


def _store_in_cache(session: Session, keys: tuple[str, str, str], result: PairResult) -> None:
    """Insert the pair's result, or replace a stale entry (its images were deleted)."""
    data = pair_result_to_json(result)
    statement = sqlite_insert(PairResultCache.__table__).values(
        old_key=keys[0], new_key=keys[1], settings_key=keys[2], result_json=data, created_at=utcnow())
    session.execute(statement.on_conflict_do_update(index_elements=["old_key", "new_key", "settings_key"],
                                                    set_={"result_json": statement.excluded.result_json}))


def fail_diff(session: Session, ctx: StageContext, message: str) -> None:
    """A failed diff is a warning on its pair; the rest of the comparison goes on."""
    pair, _, _, _ = _pair_for_stage(session, ctx)
    session.execute(delete(ChangeRow).where(ChangeRow.pair_id == pair.id))
    pair.diff_state = "failed"
    pair.warnings_json = [f"comparison of this sheet failed: {message}"]


# ---------------------------------------------------------------- report stage


def prepare_report(session: Session, ctx: StageContext) -> Work:
    return Work(heavy=False)


def commit_report(session: Session, ctx: StageContext, work: Work, _output: Any) -> None:
    comparison = session.get(Comparison, ctx.job.comparison_id)
    warnings = comparison_warnings(session, comparison)
    comparison.warnings_json = warnings
    comparison.exit_code = int(ExitCode.warnings if warnings else ExitCode.ok)
    comparison.status = "done"
    comparison.finished_at = utcnow()


def sheet_label(sheet: Sheet | None) -> str:
    if sheet is None:
        return "?"
    return sheet.effective_number or f"sheet {sheet.set_index + 1}"


def comparison_warnings(session: Session, comparison: Comparison) -> list[str]:
    """Everything a reviewer must look at: failed or low-confidence pairs, pairings to check, sheets
    without a number."""
    warnings: list[str] = []
    old, new = _sets_sheets(session, comparison, light=True)
    by_id = {sheet.id: sheet for sheet in old + new}
    pairs = session.scalars(select(SheetPair).where(SheetPair.comparison_id == comparison.id)
                            .options(defer(SheetPair.location_context_json)).order_by(SheetPair.ordinal)).all()
    numbered = set()
    for pair in pairs:
        sheet = by_id[pair.new_sheet_id or pair.old_sheet_id]
        label = pair.number_of(sheet) or sheet_label(sheet)
        warnings.extend(f"{label}: {w}" for w in [*(pair.match_notes_json or []), *(pair.warnings_json or [])])
        numbered.update(i for i in (pair.old_sheet_id, pair.new_sheet_id) if i and pair.number_of(by_id[i]))
    for side, sheets in (("old", old), ("new", new)):
        for sheet in sheets:
            if sheet.id not in numbered and not sheet.effective_number:
                warnings.append(f"{side} set, sheet {sheet.set_index + 1} ({_original_name(session, sheet)}): "
                                "no sheet number found; set it by hand so sheets pair correctly")
    return warnings


HANDLERS: dict[str, tuple[Callable, Callable, Callable | None]] = {
    "sheet": (prepare_sheet, commit_sheet, None),
    "match": (prepare_match, commit_match, None),
    "diff": (prepare_diff, commit_diff, fail_diff),
    "report": (prepare_report, commit_report, None),
}


def elapsed(stage: JobStage) -> float | None:
    if stage.started_at is None:
        return None
    end = stage.finished_at or utcnow()
    return (end - stage.started_at) / dt.timedelta(seconds=1)
