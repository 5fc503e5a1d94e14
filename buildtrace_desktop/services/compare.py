"""`buildtrace compare` as a service: import two sets, compare them through the job runner, export.

Everything is recorded in the database (project "Command line" by default), so the GUI can open the
comparison later, and a second identical run reuses the stored sets and cached pair results.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer

# The engine (PyMuPDF, NumPy, OpenCV) before the job runner's PySide6: once imported, PySide6's import
# hook reads the source of every module imported after it, looking for "PySide6" (0.25 s of CPU for
# PyMuPDF's bindings alone). A comparison needs the engine here anyway, to match sheets.
import buildtrace_desktop.processing.pipeline  # noqa: F401, I001
from buildtrace_desktop.db.models import Comparison, Job, Sheet, SheetPair
from buildtrace_desktop.errors import (
    BadInputError,
    BuildTraceError,
    CancelledError,
    ExitCode,
    MissingDependencyError,
)
from buildtrace_desktop.jobs.plans import describe_key
from buildtrace_desktop.jobs.processes import process_alive
from buildtrace_desktop.jobs.rows import HEAVY_SHEET_COLUMNS
from buildtrace_desktop.jobs.runner import JobRunner
from buildtrace_desktop.jobs.stages import StageFunctions
from buildtrace_desktop.processing.types import CompareSettings, sha256_file
from buildtrace_desktop.services import projects
from buildtrace_desktop.services.app import AppContext
from buildtrace_desktop.services.export import export_comparison

# progress(done, total, stage_key, message): message says what finished, e.g. "compare old page 1 with new page 1: done"
CompareProgress = Callable[[int, int, str, str], None]


@dataclass
class CompareOutcome:
    comparison_id: int
    report_path: Path
    exit_code: int  # 0 compared, 1 compared with warnings
    warnings: list[str]
    sheet_rows: list[dict[str, Any]] = field(default_factory=list)  # for the CLI's sheet table
    job_id: int | None = None


def compare_paths(
    old_paths: Sequence[str | Path],
    new_paths: Sequence[str | Path],
    out_dir: str | Path,
    settings: CompareSettings | None = None,
    jobs: int = 1,
    progress: CompareProgress | None = None,
    home: str | Path | None = None,
    project_name: str = "Command line",
    functions: StageFunctions | None = None,
    before_export: Callable[[AppContext, int], None] | None = None,
) -> CompareOutcome:
    """Compare two drawing sets (PDFs, images, folders) and write the report into `out_dir`.

    `before_export(app, comparison_id)` runs once the job is done, before the report is written (the CLI
    makes the summary there, so the report is written once, with it).

    Raises BadInputError (bad file or option; exit code 2) before any report is written, and other
    BuildTraceErrors when the job fails. `jobs` is the number of worker processes."""
    settings = settings or CompareSettings()
    with AppContext(home) as app:
        runner = _runner(app, jobs, progress, functions)
        runner.warm_up()  # the workers start while the files are checked and stored
        try:
            project = projects.find_or_create_project(app, project_name)
            old_set = import_or_reuse_set(app, project.id, old_paths, "Old", settings)
            new_set = import_or_reuse_set(app, project.id, new_paths, "New", settings)
            comparison_id, job_id = _comparison_to_run(app, project.id, old_set, new_set, settings)
            _run_job(app, runner, job_id, settings)
        finally:
            runner.shutdown()
        if before_export is not None:
            before_export(app, comparison_id)
        report_path = export_comparison(app, comparison_id, out_dir)
        comparison = projects.get_comparison(app, comparison_id)
        return CompareOutcome(comparison_id, report_path, int(comparison.exit_code or 0),
                              list(comparison.warnings_json or []), sheet_rows(app, comparison_id), job_id)


def import_or_reuse_set(app: AppContext, project_id: int, paths: Sequence[str | Path], label: str,
                        settings: CompareSettings) -> int:
    """The id of a set of this project with exactly these files (same content, same order), importing
    them if there is none. Reusing keeps sheets already read, so they are not read again."""
    from buildtrace_desktop.processing.documents import list_pages

    pages = list_pages([str(p) for p in paths], password=settings.password)  # bad input raises here
    files = list(dict.fromkeys(page.path for page in pages))
    shas = [sha256_file(f) for f in files]
    existing = _set_with_files(app, project_id, shas, len(pages))
    if existing is not None:
        return existing
    name = Path(str(paths[0])).name if len(paths) == 1 else f"{len(paths)} items"
    imported = projects.import_drawing_set(app, project_id, list(paths), f"{label}: {name}",
                                           password=settings.password, settings=settings, ingest=False)
    return imported.set_id


def _set_with_files(app: AppContext, project_id: int, shas: list[str], page_count: int) -> int | None:
    for drawing_set in projects.list_sets(app, project_id):
        if projects.set_file_shas(app, drawing_set.id) == shas and \
                len(projects.list_sheets(app, drawing_set.id)) == page_count:
            return drawing_set.id
    return None


def _comparison_to_run(app: AppContext, project_id: int, old_set_id: int, new_set_id: int,
                       settings: CompareSettings) -> tuple[int, int]:
    """An unfinished identical comparison is resumed (a crash or kill before); otherwise a new one."""
    with app.db.read() as s:
        unfinished = s.execute(
            select(Comparison.id, Job.id).join(Job, Job.comparison_id == Comparison.id)
            .where(Comparison.project_id == project_id, Comparison.old_set_id == old_set_id,
                   Comparison.new_set_id == new_set_id, Comparison.settings_key == settings.key(),
                   Comparison.status != "done", Job.state.in_(("pending", "running", "failed", "cancelled")))
            .order_by(Comparison.id.desc())).first()
    if unfinished is not None and not process_alive(projects.get_job(app, unfinished[1]).worker_pid):
        return unfinished[0], unfinished[1]
    created = projects.create_comparison(app, project_id, old_set_id, new_set_id, settings)
    return created.comparison_id, created.job_id


def _runner(app: AppContext, jobs: int, progress: CompareProgress | None,
            functions: StageFunctions | None) -> JobRunner:
    def on_progress(_job_id: int, done: int, total: int, key: str, message: str) -> None:
        if progress is not None:
            progress(done, total, key, f"{describe_key(key)}: {message}")

    # One worker: run in this process (no start-up cost of a worker process, nothing to gain from one).
    return JobRunner(app, max_workers=jobs, functions=functions, on_progress=on_progress, in_process=jobs <= 1)


def _run_job(app: AppContext, runner: JobRunner, job_id: int, settings: CompareSettings) -> None:
    try:
        job = projects.get_job(app, job_id)
        if job.state in ("failed", "cancelled"):
            runner.retry(job_id, password=settings.password)
        else:
            runner.submit(job_id, password=settings.password)
        state = runner.wait(job_id)
    except KeyboardInterrupt:
        runner.cancel(job_id)
        raise CancelledError("Cancelled. Run the same command again to continue where it stopped.") from None
    if state != "done":
        raise _job_error(projects.get_job(app, job_id))


def _job_error(job: Job) -> BuildTraceError:
    """The job's stored error as the exception class its exit code stands for (one place for this)."""
    message = job.error_message or f"the comparison job ended {job.state}"
    code = job.error_code
    if code == ExitCode.bad_input:
        return BadInputError(message)
    if code == ExitCode.missing_dependency:
        return MissingDependencyError(message)
    if code == ExitCode.cancelled:
        return CancelledError(message)
    return BuildTraceError(message)


def sheet_rows(app: AppContext, comparison_id: int) -> list[dict[str, Any]]:
    """One row per sheet pair: number, title, status, renumbered, changes, alignment confidence, warnings."""
    counts = projects.count_changes(app, comparison_id)
    rows = []
    with app.db.read() as s:
        pairs = list(s.scalars(select(SheetPair).where(SheetPair.comparison_id == comparison_id)
                               .options(defer(SheetPair.location_context_json)).order_by(SheetPair.ordinal)))
        ids = {i for pair in pairs for i in (pair.old_sheet_id, pair.new_sheet_id) if i}
        # Sheet rows in one query and without their thumbnails and OCR words (JSON the table never shows)
        sheets = {sh.id: sh for sh in s.scalars(select(Sheet).where(Sheet.id.in_(ids)).options(*HEAVY_SHEET_COLUMNS))}
        for pair in pairs:
            sheet = sheets[pair.new_sheet_id or pair.old_sheet_id]
            old = sheets[pair.old_sheet_id] if pair.old_sheet_id else None
            rows.append({
                "pair_id": pair.id,
                "sheet_number": pair.number_of(sheet),
                "old_sheet_number": pair.number_of(old),
                "title": pair.title_of(sheet),
                "status": pair.status,
                "renumbered": pair.renumbered,
                "changes": counts.get(pair.id, 0),
                "confidence": pair.confidence,
                "diff_state": pair.diff_state,
                "warnings": list(pair.match_notes_json or []) + list(pair.warnings_json or []),
                "match_confidence": pair.match_confidence,
            })
    return rows


__all__ = ["CompareOutcome", "compare_paths", "import_or_reuse_set", "sheet_rows"]
