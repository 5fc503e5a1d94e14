"""What the job runner records in the database: stage marks, a job's progress, and how a job ended.

Core statements where rows are only updated: the ORM's bulk UPDATE costs more than the update itself,
and these run once or twice per stage.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from buildtrace_desktop.db.models import Comparison, Job, JobStage, utcnow
from buildtrace_desktop.errors import ExitCode
from buildtrace_desktop.jobs import plans


def record_end(db: Any, job_id: int, cancelled: bool) -> str:
    """Record how a job ended (cancelled, failed, done) on the job and its comparison; return the state."""
    with db.write() as s:
        job = s.get(Job, job_id)
        stages = list(s.scalars(select(JobStage).where(JobStage.job_id == job_id)))
        failed = plans.fatal_failure(stages)
        if cancelled:
            state = "cancelled"
            cancel_unfinished(s, job_id)
            job.error_code, job.error_message = int(ExitCode.cancelled), "cancelled by the user"
        elif failed is not None:
            state = "failed"
            job.error_code, job.error_message = failed.error_code, failed.error
        elif plans.all_finished(stages):
            state = "done"
        else:  # nothing can run, yet something is unfinished: say so rather than hang
            state = "failed"
            job.error_code = int(ExitCode.internal_error)
            job.error_message = "the job stopped with unfinished stages; retry it"
        job.state, job.finished_at, job.worker_pid = state, utcnow(), None
        job.progress = 1.0 if state == "done" else job.progress
        if job.comparison_id is not None:
            s.get(Comparison, job.comparison_id).status = state
    return state


def record_suspended(db: Any, job_id: int) -> str:
    """A job stopped by shutdown: left pending, its running stages too, for the next start."""
    with db.write() as s:
        s.execute(update(JobStage).where(JobStage.job_id == job_id, JobStage.state == "running")
                  .values(state="pending"))
        job = s.get(Job, job_id)
        job.state, job.worker_pid = "pending", None
    return "pending"


def mark_cancelled(db: Any, job_id: int) -> None:
    """Cancel a job that is not running here."""
    with db.write() as s:
        job = s.get(Job, job_id)
        if job is None or job.state in ("done", "failed", "cancelled"):
            return
        cancel_unfinished(s, job_id)
        job.state, job.finished_at = "cancelled", utcnow()
        job.error_code, job.error_message = int(ExitCode.cancelled), "cancelled by the user"
        if job.comparison_id is not None:
            s.get(Comparison, job.comparison_id).status = "cancelled"


def record_progress(session: Any, job_id: int) -> tuple[int, int]:
    """(finished, all) stages of a job, stored as the job's progress fraction."""
    counts = dict(session.execute(select(JobStage.state, func.count()).where(JobStage.job_id == job_id)
                                  .group_by(JobStage.state)).all())
    done = counts.get("done", 0) + counts.get("failed", 0)
    total = sum(counts.values())
    jobs = Job.__table__  # Core statements: the ORM's bulk UPDATE costs more than the update itself
    session.execute(update(jobs).where(jobs.c.id == job_id).values(progress=done / total if total else 1.0))
    return done, total


def mark_stage(session: Any, stage_id: int, state: str, code: int | None = None, error: str | None = None) -> None:
    stages = JobStage.__table__
    session.execute(update(stages).where(stages.c.id == stage_id)
                    .values(state=state, error_code=code, error=error, finished_at=utcnow()))


def cancel_unfinished(session: Any, job_id: int) -> None:
    session.execute(update(JobStage).where(JobStage.job_id == job_id,
                                           JobStage.state.in_(("pending", "running")))
                    .values(state="cancelled"))
