"""Projects, drawing sets, sheets, comparisons, changes and jobs: what the GUI and CLI read and edit.

Every function takes the AppContext first and returns detached rows (plain attribute access works; do
not follow relationships) or ids. Bad requests raise BadInputError with a message for the user.
"""
from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from buildtrace_desktop.db.models import (
    REVIEW_STATUSES,
    ChangeRow,
    Comparison,
    DrawingSet,
    Job,
    JobStage,
    Project,
    SetFile,
    Sheet,
    SheetPair,
    StoredFile,
    utcnow,
)
from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.jobs import plans
from buildtrace_desktop.processing.types import CompareSettings, PageRef
from buildtrace_desktop.services.app import AppContext

# ---------------------------------------------------------------- projects


def create_project(app: AppContext, name: str) -> Project:
    name = _clean_name(name)
    try:
        with app.db.write() as s:
            project = Project(name=name)
            s.add(project)
    except IntegrityError as exc:
        raise BadInputError(f"A project named {name!r} already exists: choose another name.") from exc
    return project


def find_or_create_project(app: AppContext, name: str) -> Project:
    """The project named `name`, created if there is none. One write transaction, so two processes
    asking at once (two `buildtrace compare` runs) get the same project instead of a name clash."""
    name = _clean_name(name)
    with app.db.write() as s:
        project = s.scalars(select(Project).where(Project.name == name)).first()
        if project is None:
            project = Project(name=name)
            s.add(project)
    return project


def get_project(app: AppContext, project_id: int) -> Project:
    with app.db.read() as s:
        return _get(s, Project, project_id, "project")


def find_project(app: AppContext, name: str) -> Project | None:
    with app.db.read() as s:
        return s.scalars(select(Project).where(Project.name == name)).first()


def rename_project(app: AppContext, project_id: int, name: str) -> Project:
    name = _clean_name(name)
    try:
        with app.db.write() as s:
            project = _get(s, Project, project_id, "project")
            project.name = name
    except IntegrityError as exc:
        raise BadInputError(f"A project named {name!r} already exists: choose another name.") from exc
    return project


def archive_project(app: AppContext, project_id: int, archived: bool = True) -> Project:
    with app.db.write() as s:
        project = _get(s, Project, project_id, "project")
        project.archived = archived
    return project


def touch_project(session: Session, project_id: int) -> None:
    """Mark a project as recently used (the list shows recent first)."""
    project = session.get(Project, project_id)
    if project is not None:
        project.updated_at = utcnow()


def list_projects(app: AppContext, include_archived: bool = False) -> list[Project]:
    """Projects, most recently used first."""
    with app.db.read() as s:
        query = select(Project).order_by(Project.updated_at.desc(), Project.id.desc())
        if not include_archived:
            query = query.where(Project.archived.is_(False))
        return list(s.scalars(query))


def delete_project(app: AppContext, project_id: int) -> list[str]:
    """Delete a project with its sets, comparisons and jobs, and the stored files no other project uses.

    Refuses while one of its jobs is running. Returns the hashes of the files removed from the store."""
    with app.db.write() as s:
        _get(s, Project, project_id, "project")
        set_ids = list(s.scalars(select(DrawingSet.id).where(DrawingSet.project_id == project_id)))
        comparison_ids = list(s.scalars(select(Comparison.id).where(Comparison.project_id == project_id)))
        _refuse_if_running(s, set_ids, comparison_ids, "this project")
        shas = set(s.scalars(select(SetFile.file_sha).where(SetFile.set_id.in_(set_ids))))
        s.execute(delete(Project).where(Project.id == project_id))  # cascades to sets, sheets, comparisons
        unused = _forget_unused_files(s, shas)
    return _remove_files(app, unused, comparison_ids)


def _forget_unused_files(s: Session, shas: set[str]) -> dict[str, str]:
    """Delete the rows of the stored files no set uses any more; return their hashes and suffixes."""
    unused = [sha for sha in shas if not _file_in_use(s, sha)]
    suffixes = {f.sha256: f.suffix for f in s.scalars(select(StoredFile).where(StoredFile.sha256.in_(unused)))}
    s.execute(delete(StoredFile).where(StoredFile.sha256.in_(unused)))
    return {sha: suffixes.get(sha, "") for sha in unused}


def _remove_files(app: AppContext, unused: dict[str, str], comparison_ids: list[int]) -> list[str]:
    """Files go after the commit: a crash in between leaves an orphan file, never a row without its file."""
    for sha, suffix in unused.items():
        app.store.remove(sha, suffix)
    for comparison_id in comparison_ids:
        shutil.rmtree(app.config.comparison_dir(comparison_id), ignore_errors=True)
    return sorted(unused)


def delete_set(app: AppContext, set_id: int) -> list[str]:
    """Delete a drawing set, the comparisons that use it, and its stored files no other set uses.

    Refuses while one of its jobs runs. Returns the hashes of the files removed from the store."""
    with app.db.write() as s:
        _get(s, DrawingSet, set_id, "drawing set")
        comparison_ids = list(s.scalars(select(Comparison.id).where(
            (Comparison.old_set_id == set_id) | (Comparison.new_set_id == set_id))))
        _refuse_if_running(s, [set_id], comparison_ids, "this drawing set")
        shas = set(s.scalars(select(SetFile.file_sha).where(SetFile.set_id == set_id)))
        s.execute(delete(DrawingSet).where(DrawingSet.id == set_id))
        unused = _forget_unused_files(s, shas)
    return _remove_files(app, unused, comparison_ids)


def delete_comparison(app: AppContext, comparison_id: int) -> None:
    """Delete a comparison with its pairs, changes, reviews, summaries and jobs (the sets stay)."""
    with app.db.write() as s:
        _get(s, Comparison, comparison_id, "comparison")
        _refuse_if_running(s, [], [comparison_id], "this comparison")
        s.execute(delete(Comparison).where(Comparison.id == comparison_id))
    shutil.rmtree(app.config.comparison_dir(comparison_id), ignore_errors=True)


def _refuse_if_running(session: Session, set_ids: list[int], comparison_ids: list[int], what: str) -> None:
    running = session.scalars(select(Job.id).where(
        Job.state == "running", (Job.set_id.in_(set_ids)) | (Job.comparison_id.in_(comparison_ids)))).first()
    if running is not None:
        raise BadInputError(f"A job of {what} is running: cancel it (Jobs panel) before deleting.")


def _file_in_use(session: Session, sha: str) -> bool:
    in_sets = session.scalars(select(SetFile.id).where(SetFile.file_sha == sha)).first()
    in_sheets = session.scalars(select(Sheet.id).where(Sheet.file_sha == sha)).first()
    return in_sets is not None or in_sheets is not None


# ---------------------------------------------------------------- drawing sets and sheets


@dataclass(frozen=True)
class ImportedSet:
    set_id: int
    sheet_count: int
    job_id: int | None  # the "ingest" job that reads sheet numbers and titles, if one was created


def import_drawing_set(
    app: AppContext,
    project_id: int,
    paths: Sequence[str | Path],
    label: str,
    issue_date: dt.date | None = None,
    password: str | None = None,
    settings: CompareSettings | None = None,
    ingest: bool = True,
) -> ImportedSet:
    """Store the files (PDFs, images, folders of them) once each and create one sheet per page.

    Bad files raise before anything is stored in the database. With `ingest`, an "ingest" job (one stage
    per page) is created to read sheet numbers and titles; hand its id to JobRunner.submit."""
    from buildtrace_desktop.processing.documents import list_pages  # late: pulls in PyMuPDF

    if not paths:
        raise BadInputError("Choose at least one PDF, image or folder to import.")
    pages: list[PageRef] = list_pages([str(p) for p in paths], password=password)
    file_shas = {path: app.store.store_file(path) for path in dict.fromkeys(page.path for page in pages)}
    with app.db.write() as s:
        _get(s, Project, project_id, "project")
        drawing_set = DrawingSet(project_id=project_id, label=label.strip() or "Untitled set",
                                 issue_date=issue_date)
        s.add(drawing_set)
        s.flush()
        for sha, path in {sha: path for path, sha in file_shas.items()}.items():  # one row per content
            _ensure_stored_file(s, sha, Path(path), app)
        s.flush()  # stored_files rows first: set_files and sheets refer to them
        for position, (path, sha) in enumerate(file_shas.items()):
            s.add(SetFile(set_id=drawing_set.id, file_sha=sha, position=position, original_path=path))
        for page in pages:
            s.add(Sheet(set_id=drawing_set.id, set_index=page.set_index, file_sha=file_shas[page.path],
                        page_index=page.page_index, kind=page.kind))
        s.flush()
        job_id = plans.create_ingest_job(s, drawing_set.id, settings or CompareSettings()).id if ingest else None
        touch_project(s, project_id)
        return ImportedSet(drawing_set.id, len(pages), job_id)


def _ensure_stored_file(session: Session, sha: str, path: Path, app: AppContext) -> None:
    if session.get(StoredFile, sha) is None:
        session.add(StoredFile(sha256=sha, suffix=path.suffix.lower(), original_name=path.name,
                               size=app.store.path_for(sha, path.suffix).stat().st_size))


def list_sets(app: AppContext, project_id: int) -> list[DrawingSet]:
    with app.db.read() as s:
        return list(s.scalars(select(DrawingSet).where(DrawingSet.project_id == project_id)
                              .order_by(DrawingSet.created_at, DrawingSet.id)))


def get_set(app: AppContext, set_id: int) -> DrawingSet:
    with app.db.read() as s:
        return _get(s, DrawingSet, set_id, "drawing set")


def set_file_shas(app: AppContext, set_id: int) -> list[str]:
    with app.db.read() as s:
        return list(s.scalars(select(SetFile.file_sha).where(SetFile.set_id == set_id).order_by(SetFile.position)))


def list_sheets(app: AppContext, set_id: int) -> list[Sheet]:
    with app.db.read() as s:
        return list(s.scalars(select(Sheet).where(Sheet.set_id == set_id).order_by(Sheet.set_index)))


def get_sheet(app: AppContext, sheet_id: int) -> Sheet:
    with app.db.read() as s:
        return _get(s, Sheet, sheet_id, "sheet")


def sheet_file_path(app: AppContext, sheet: Sheet) -> Path:
    """The stored file that holds a sheet's page (for viewers and thumbnails)."""
    with app.db.read() as s:
        stored = s.get(StoredFile, sheet.file_sha)
        return app.store.path_for(sheet.file_sha, stored.suffix if stored else "")


def correct_sheet(app: AppContext, sheet_id: int, number: str | None, title: str | None) -> Sheet:
    """The user's sheet number and title; kept beside what was read, and used for matching from now on.
    An empty string or None clears the correction."""
    with app.db.write() as s:
        sheet = _get(s, Sheet, sheet_id, "sheet")
        sheet.user_number = (number or "").strip() or None
        sheet.user_title = (title or "").strip() or None
    return sheet


# ---------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class CreatedComparison:
    comparison_id: int
    job_id: int


def create_comparison(app: AppContext, project_id: int, old_set_id: int, new_set_id: int,
                      settings: CompareSettings | None = None) -> CreatedComparison:
    """A comparison of two sets of a project, and its "compare" job (hand job_id to JobRunner.submit)."""
    settings = settings or CompareSettings()
    with app.db.write() as s:
        _get(s, Project, project_id, "project")
        for set_id in (old_set_id, new_set_id):
            if _get(s, DrawingSet, set_id, "drawing set").project_id != project_id:
                raise BadInputError("Both drawing sets must belong to the project being compared.")
        comparison = Comparison(project_id=project_id, old_set_id=old_set_id, new_set_id=new_set_id,
                                settings_json=plans.settings_to_json(settings), settings_key=settings.key(),
                                status="pending", warnings_json=[])
        s.add(comparison)
        s.flush()
        job = plans.create_compare_job(s, comparison)
        touch_project(s, project_id)
        return CreatedComparison(comparison.id, job.id)


def get_comparison(app: AppContext, comparison_id: int) -> Comparison:
    with app.db.read() as s:
        return _get(s, Comparison, comparison_id, "comparison")


def list_comparisons(app: AppContext, project_id: int) -> list[Comparison]:
    """Newest first."""
    with app.db.read() as s:
        return list(s.scalars(select(Comparison).where(Comparison.project_id == project_id)
                              .order_by(Comparison.created_at.desc(), Comparison.id.desc())))


def list_pairs(app: AppContext, comparison_id: int, changed_only: bool = False) -> list[SheetPair]:
    """The comparison's sheet table in order; `changed_only` keeps added/removed sheets and pairs with changes."""
    with app.db.read() as s:
        pairs = list(s.scalars(select(SheetPair).where(SheetPair.comparison_id == comparison_id)
                               .order_by(SheetPair.ordinal)))
        if not changed_only:
            return pairs
        counts = change_counts(s, comparison_id)
        return [p for p in pairs if p.status != "matched" or counts.get(p.id, 0) > 0 or p.renumbered]


def change_counts(session: Session, comparison_id: int) -> dict[int, int]:
    """pair id -> number of changes."""
    rows = session.execute(
        select(ChangeRow.pair_id, func.count(ChangeRow.id)).join(SheetPair, SheetPair.id == ChangeRow.pair_id)
        .where(SheetPair.comparison_id == comparison_id).group_by(ChangeRow.pair_id))
    return {pair_id: count for pair_id, count in rows}


def count_changes(app: AppContext, comparison_id: int) -> dict[int, int]:
    with app.db.read() as s:
        return change_counts(s, comparison_id)


def list_changes(app: AppContext, pair_id: int) -> list[ChangeRow]:
    with app.db.read() as s:
        return list(s.scalars(select(ChangeRow).where(ChangeRow.pair_id == pair_id).order_by(ChangeRow.ordinal)))


def set_review(app: AppContext, change_id: int, status: str, note: str | None = None) -> ChangeRow:
    """Save a change's review status (open, accepted, rejected, needs_rfi) and note, at once."""
    if status not in REVIEW_STATUSES:
        raise BadInputError(f"Review status must be one of {', '.join(REVIEW_STATUSES)}, not {status!r}.")
    with app.db.write() as s:
        change = _get(s, ChangeRow, change_id, "change")
        change.review_status = status
        change.note = note
        change.reviewed_at = utcnow()
    return change


# ---------------------------------------------------------------- jobs


def get_job(app: AppContext, job_id: int) -> Job:
    with app.db.read() as s:
        return _get(s, Job, job_id, "job")


def list_jobs(app: AppContext, states: Sequence[str] | None = None, comparison_id: int | None = None,
              set_id: int | None = None) -> list[Job]:
    """Newest first, optionally filtered."""
    with app.db.read() as s:
        query = select(Job).order_by(Job.id.desc())
        if states:
            query = query.where(Job.state.in_(list(states)))
        if comparison_id is not None:
            query = query.where(Job.comparison_id == comparison_id)
        if set_id is not None:
            query = query.where(Job.set_id == set_id)
        return list(s.scalars(query))


def job_title(app: AppContext, job_id: int) -> str:
    """Words for a job in the job panel: 'Compare Rev 1 → Rev 2 (Clinic)', 'Read sheets of Rev 2 (Clinic)'."""
    with app.db.read() as s:
        job = _get(s, Job, job_id, "job")
        if job.comparison_id is not None:
            comparison = s.get(Comparison, job.comparison_id)
            old, new = s.get(DrawingSet, comparison.old_set_id), s.get(DrawingSet, comparison.new_set_id)
            project = s.get(Project, comparison.project_id)
            return f"Compare {old.label} → {new.label} ({project.name})"
        if job.set_id is not None:
            drawing_set = s.get(DrawingSet, job.set_id)
            return f"Read sheets of {drawing_set.label} ({s.get(Project, drawing_set.project_id).name})"
        return f"{job.kind.capitalize()} job {job.id}"


def list_stages(app: AppContext, job_id: int) -> list[JobStage]:
    with app.db.read() as s:
        return list(s.scalars(select(JobStage).where(JobStage.job_id == job_id).order_by(JobStage.position)))


# ---------------------------------------------------------------- helpers


def _get(session: Session, model: type, row_id: int, what: str):  # noqa: ANN202 (returns a `model`)
    row = session.get(model, row_id)
    if row is None:
        raise BadInputError(f"There is no {what} with id {row_id}; it may have been deleted.")
    return row


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise BadInputError("A project needs a name.")
    return name
