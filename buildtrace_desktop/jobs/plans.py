"""What a job is made of: its stages, as rows in `job_stages`, and the order they may run in.

Stage keys (unique per job):
    "sheet:<pages>"                ingest job: read the sheet number and title of a few pages
    "sheet:<old|new>:<pages>"      compare job: same, only for sheets not read yet
                                   (<pages>: "<set_index>" or "<first>-<last>", consecutive set indexes)
    "match"                        compare job: pair old and new sheets
    "diff:<old_index>:<new_index>" compare job: one matched pair (inserted by the match stage)
    "report"                       compare job: warnings and exit code of the comparison
A stage may start when every stage of an earlier phase is done; a failed diff stage does not block the
report (it becomes a warning), any other failed stage ends the job as failed.
"""
from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from buildtrace_desktop.db.models import Comparison, Job, JobStage, Sheet
from buildtrace_desktop.processing.types import CompareSettings

PHASES = {"sheet": 0, "match": 1, "diff": 2, "report": 3}
NON_FATAL_FAILURES = {"diff"}  # a failed stage of these kinds is a warning, not the end of the job
DIFF_POSITION_BASE = 100_000  # diff stages sort after sheet stages and the match stage
REPORT_POSITION = 10_000_000


# A sheet stage reads a run of consecutive pages: its bookkeeping (two transactions, a call to a worker
# process) costs the main process more than reading a simple page costs a worker. Runs are short enough
# that every set keeps at least MIN_SHEET_STAGES of them for the workers to share.
MAX_SHEETS_PER_STAGE = 16
MIN_SHEET_STAGES = 8


def sheets_per_stage(unread: int) -> int:
    return max(1, min(MAX_SHEETS_PER_STAGE, unread // MIN_SHEET_STAGES))


def sheet_key(side: str | None, first: int, last: int | None = None) -> str:
    pages = str(first) if last is None or last == first else f"{first}-{last}"
    return f"sheet:{pages}" if side is None else f"sheet:{side}:{pages}"


def sheet_indexes(key: str) -> list[int]:
    """The set indexes a sheet stage reads: 'sheet:old:4-7' -> [4, 5, 6, 7]; 'sheet:3' -> [3]."""
    first, _, last = parse_key(key)[1][-1].partition("-")
    return list(range(int(first), int(last or first) + 1))


def _sheet_stages(session: Session, job: Job, side: str | None, sheets: list[Sheet], position: int) -> int:
    """Add the stages that read the unread `sheets`, runs of consecutive ones; return the next position."""
    unread = [sheet.set_index for sheet in sheets if sheet.read_at is None]
    per_stage = sheets_per_stage(len(unread))
    runs: list[list[int]] = []
    for index in unread:
        if runs and len(runs[-1]) < per_stage and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    for run in runs:
        session.add(JobStage(job_id=job.id, name="sheet", key=sheet_key(side, run[0], run[-1]), position=position))
        position += 1
    return position


def diff_key(old_index: int, new_index: int) -> str:
    return f"diff:{old_index}:{new_index}"


def parse_key(key: str) -> tuple[str, list[str]]:
    """'diff:2:5' -> ('diff', ['2', '5'])."""
    name, *rest = key.split(":")
    return name, rest


def settings_to_json(settings: CompareSettings) -> dict:
    """Settings as stored in the database: everything but the password (never written to disk)."""
    data = asdict(settings)
    data.pop("password", None)
    return data


def settings_from_json(data: dict, password: str | None = None) -> CompareSettings:
    known = {k: v for k, v in data.items() if k in CompareSettings.__dataclass_fields__}
    return CompareSettings(**known, password=password)


def create_ingest_job(session: Session, set_id: int, settings: CompareSettings) -> Job:
    """A job with one 'sheet:<i>' stage per page of the set that has not been read yet."""
    job = Job(kind="ingest", set_id=set_id, params_json={"settings": settings_to_json(settings)})
    session.add(job)
    session.flush()
    sheets = session.scalars(select(Sheet).where(Sheet.set_id == set_id).order_by(Sheet.set_index)).all()
    _sheet_stages(session, job, None, list(sheets), 0)
    session.flush()
    return job


def create_compare_job(session: Session, comparison: Comparison) -> Job:
    """Sheet stages for unread sheets of both sets, then match, then report (diff stages come from match)."""
    job = Job(kind="compare", comparison_id=comparison.id, set_id=None, params_json={})
    session.add(job)
    session.flush()
    position = 0
    for side, set_id in (("old", comparison.old_set_id), ("new", comparison.new_set_id)):
        sheets = session.scalars(select(Sheet).where(Sheet.set_id == set_id).order_by(Sheet.set_index)).all()
        position = _sheet_stages(session, job, side, list(sheets), position)
    session.add(JobStage(job_id=job.id, name="match", key="match", position=DIFF_POSITION_BASE - 1))
    session.add(JobStage(job_id=job.id, name="report", key="report", position=REPORT_POSITION))
    session.flush()
    return job


def ready_stages(stages: list[JobStage]) -> list[JobStage]:
    """Pending stages whose earlier phases are all finished (in one pass: a 500-sheet job has 1,500
    stages, and this runs after every one of them)."""
    open_phases = [PHASES[s.name] for s in stages if not _finished(s)]
    first_open = min(open_phases, default=max(PHASES.values()))
    return [s for s in stages if s.state == "pending" and PHASES[s.name] <= first_open]


def _finished(stage: JobStage) -> bool:
    return stage.state == "done" or (stage.state == "failed" and stage.name in NON_FATAL_FAILURES)


def fatal_failure(stages: list[JobStage]) -> JobStage | None:
    for stage in stages:
        if stage.state == "failed" and stage.name not in NON_FATAL_FAILURES:
            return stage
    return None


def all_finished(stages: list[JobStage]) -> bool:
    return all(_finished(s) for s in stages)


def describe_key(key: str) -> str:
    """Words for a stage key, for progress lines: 'diff:2:5' -> 'compare old page 3 with new page 6'."""
    name, parts = parse_key(key)
    if name == "sheet":
        side = f"{parts[0]} " if len(parts) == 2 else ""
        indexes = sheet_indexes(key)
        if len(indexes) > 1:
            return f"read {side}pages {indexes[0] + 1}-{indexes[-1] + 1}"
        return f"read {side}page {indexes[0] + 1}"
    if name == "diff":
        return f"compare old page {int(parts[0]) + 1} with new page {int(parts[1]) + 1}"
    if name == "match":
        return "match sheets"
    return "finish the report" if name == "report" else key
