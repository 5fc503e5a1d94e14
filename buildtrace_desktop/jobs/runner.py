"""JobRunner: runs jobs' stages on a QThreadPool, heavy work in worker processes, state in the database.

Each stage is a QRunnable: it marks its stage running, prepares its inputs from the database, sends the
pure engine call to a shared ProcessPoolExecutor (PyMuPDF holds the GIL, so threads alone would run one
page at a time), waits, and writes its rows and its "done" mark in ONE transaction. After each stage the
runner schedules whatever became ready. QThreadPool needs no QCoreApplication, so the CLI uses it too.

Progress and completion are plain callbacks called from worker threads; the GUI wraps them in Qt signals:
    on_progress(job_id, done, total, stage_key, message)
    on_finished(job_id, state)          # "done" | "failed" | "cancelled" | "pending" (suspended)
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import threading
import traceback
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QRunnable, QThreadPool
from sqlalchemy import select, update

from buildtrace_desktop.db.models import Comparison, Job, JobStage, utcnow
from buildtrace_desktop.errors import BuildTraceError, ExitCode
from buildtrace_desktop.jobs import plans, records
from buildtrace_desktop.jobs.memory import MemoryBudget, budget_for_workers
from buildtrace_desktop.jobs.processes import (
    call_in_thread,
    import_engine,
    make_process_pool,
    process_alive,
    terminate_pool,
)
from buildtrace_desktop.jobs.stages import HANDLERS, StageContext, StageFunctions, Work

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, int, str, str], None]
FinishedCallback = Callable[[int, str], None]
POLL_SECONDS = 0.1  # how often a waiting stage looks at its job's cancel flag


@dataclass
class _ActiveJob:
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    in_flight: set[int] = field(default_factory=set)  # stage ids handed to the thread pool
    password: str | None = None
    state: str | None = None
    suspend: bool = False  # stopped by shutdown(): left pending for the next start, not cancelled
    progress: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # stage id: (finished, all, key) at its commit
    settings_json: dict | None = None  # the job's settings, read once
    memo: dict = field(default_factory=dict)  # rows the stages read again and again (StageContext.memo)
    job: Job | None = None  # the job's row as read by its first stage


class _StageRunnable(QRunnable):
    def __init__(self, runner: JobRunner, job_id: int, stage_id: int) -> None:
        super().__init__()
        self.runner, self.job_id, self.stage_id = runner, job_id, stage_id
        self.setAutoDelete(False)  # the runner keeps the Python object alive until run() returns

    def run(self) -> None:
        try:
            self.runner._run_stage(self.job_id, self.stage_id)
        except BaseException:  # never let an exception escape into Qt's thread
            log.error("stage %s of job %s crashed:\n%s", self.stage_id, self.job_id, traceback.format_exc())
        finally:
            self.runner._stage_returned(self.job_id, self.stage_id, self)


class JobRunner:
    """Runs jobs of one AppContext. `max_workers` stages at a time (processes for the heavy part).

    `in_process=True` runs the engine calls in the stage's own thread (no worker processes); for tests of
    the runner's mechanics with stand-in functions, and for a single job where start-up time matters.
    """

    def __init__(self, app: Any, max_workers: int = 1, functions: StageFunctions | None = None,
                 on_progress: ProgressCallback | None = None, on_finished: FinishedCallback | None = None,
                 in_process: bool = False) -> None:
        self.app = app
        self.max_workers = max(1, int(max_workers))
        self._functions = functions
        self.on_progress = on_progress
        self.on_finished = on_finished
        self.in_process = in_process
        self._pool = QThreadPool()
        # With worker processes, twice as many stage threads as processes: while one thread writes its
        # stage's rows and prepares the next, another's work is already queued, so no process waits.
        self._pool.setMaxThreadCount(self.max_workers if in_process else 2 * self.max_workers)
        self._processes: cf.ProcessPoolExecutor | None = None
        self._memory = MemoryBudget(budget_for_workers(self.max_workers))
        self._lock = threading.RLock()
        self._active: dict[int, _ActiveJob] = {}
        self._runnables: set[_StageRunnable] = set()

    # ------------------------------------------------------------ public API

    def submit(self, job_id: int, password: str | None = None) -> None:
        """Start (or continue) a pending, running or resumed job. Done stages are never redone."""
        if self.is_active(job_id):
            return
        with self.app.db.write() as s:
            job = s.get(Job, job_id)
            if job is None:
                raise BuildTraceError(f"Job {job_id} does not exist; it may have been deleted.")
            if job.state == "running" and process_alive(job.worker_pid):
                raise BuildTraceError(f"Job {job_id} is being run by another BuildTrace process "
                                      f"(pid {job.worker_pid}); wait for it to finish or cancel it there.")
            # A stage left "running" by a crash (or a cancelled one being resumed) starts again.
            s.execute(update(JobStage).where(JobStage.job_id == job_id, JobStage.state == "running")
                      .values(state="pending"))
            job.state, job.worker_pid = "running", os.getpid()
            job.error_code = job.error_message = None
            job.started_at = job.started_at or utcnow()
            job.finished_at = None
            if job.comparison_id is not None:
                s.get(Comparison, job.comparison_id).status = "running"
        with self._lock:
            self._active[job_id] = _ActiveJob(password=password)
        self._schedule(job_id)

    def warm_up(self) -> None:
        """Start the worker processes now and have them import the engine, so that their start-up
        (about half a second each) overlaps the caller's own preparation instead of the first stages."""
        if self.in_process:
            return
        pool = self._process_pool()
        for _ in range(self.max_workers):
            pool.submit(import_engine)

    def resume_incomplete(self) -> list[int]:
        """Submit every job a previous run left pending or running (its process is gone)."""
        with self.app.db.read() as s:
            jobs = s.scalars(select(Job).where(Job.state.in_(("pending", "running"))).order_by(Job.id)).all()
        resumed = [j.id for j in jobs if not process_alive(j.worker_pid)]
        for job_id in resumed:
            self.submit(job_id)
        return resumed

    def cancel(self, job_id: int) -> None:
        """Stop a job: stages not started are skipped, running ones abandoned; the job ends "cancelled"."""
        with self._lock:
            active = self._active.get(job_id)
            if active is not None and not active.finished.is_set():
                active.cancel.set()
                idle = not active.in_flight
            else:
                active, idle = None, False
        if active is None:
            records.mark_cancelled(self.app.db, job_id)  # not running here: just record it
            return
        if idle:
            self._finish(job_id)

    def retry(self, job_id: int, password: str | None = None) -> None:
        """Re-queue a failed or cancelled job's failed and cancelled stages (and its report)."""
        if self.is_active(job_id):
            return  # still running: nothing to retry yet
        with self.app.db.write() as s:
            s.execute(update(JobStage).where(JobStage.job_id == job_id,
                                             JobStage.state.in_(("failed", "cancelled")))
                      .values(state="pending", error=None, error_code=None))
            s.execute(update(JobStage).where(JobStage.job_id == job_id, JobStage.name == "report")
                      .values(state="pending"))
            s.get(Job, job_id).state = "pending"
        self.submit(job_id, password)

    def wait(self, job_id: int, timeout: float | None = None) -> str:
        """Block until the job finishes here (or `timeout` seconds); return its state."""
        with self._lock:
            active = self._active.get(job_id)
        if active is not None:
            active.finished.wait(timeout)
        with self.app.db.read() as s:
            job = s.get(Job, job_id)
            return job.state if job else "missing"

    def is_active(self, job_id: int) -> bool:
        with self._lock:
            active = self._active.get(job_id)
            return active is not None and not active.finished.is_set()

    def suspend(self, job_id: int) -> None:
        """Stop a job without cancelling it: running stages are abandoned and it is left "pending", so
        `resume_incomplete()` (next start of the app) continues it. For closing the app mid-job."""
        with self._lock:
            active = self._active.get(job_id)
            if active is None or active.finished.is_set():
                return
            active.suspend = True
            active.cancel.set()
            idle = not active.in_flight
        if idle:
            self._finish(job_id)

    def shutdown(self, cancel: bool = False) -> None:
        """Stop: running jobs are suspended (resumed on the next start) or, with `cancel`, cancelled.
        Returns once no stage thread runs; worker processes still computing are terminated."""
        for job_id in [j for j in list(self._active) if self.is_active(j)]:
            if cancel:
                self.cancel(job_id)
            else:
                self.suspend(job_id)
        self._pool.waitForDone()
        with self._lock:
            processes, self._processes = self._processes, None
        if processes is not None:
            terminate_pool(processes)

    # ------------------------------------------------------------ scheduling

    def _schedule(self, job_id: int) -> None:
        with self._lock:
            active = self._active[job_id]
            if active.finished.is_set():
                return
            if active.in_flight:
                # Every pending stage of the open phase was started when that phase opened, and a later
                # phase waits for all of them: nothing can be ready before the last one returns. So the
                # stages are read once per phase, not once per stage (a 500-sheet job has 1,500).
                return
            with self.app.db.read() as s:  # light rows of the unfinished stages
                stages = s.execute(select(JobStage.id, JobStage.name, JobStage.state).where(
                    JobStage.job_id == job_id, JobStage.state != "done").order_by(JobStage.position)).all()
            stop = active.cancel.is_set() or plans.fatal_failure(stages) is not None
            ready = [] if stop else [st for st in plans.ready_stages(stages) if st.id not in active.in_flight]
            for stage in ready:
                active.in_flight.add(stage.id)
                runnable = _StageRunnable(self, job_id, stage.id)
                self._runnables.add(runnable)
                self._pool.start(runnable)
            if active.in_flight:
                return
        self._finish(job_id)

    def _stage_returned(self, job_id: int, stage_id: int, runnable: _StageRunnable) -> None:
        with self._lock:
            self._runnables.discard(runnable)
            self._active[job_id].in_flight.discard(stage_id)
        self._report_progress(job_id, stage_id)
        self._schedule(job_id)

    # ------------------------------------------------------------ one stage

    def _run_stage(self, job_id: int, stage_id: int) -> None:
        active = self._active[job_id]
        if active.cancel.is_set():
            return
        # Two transactions per stage: one marks it running and prepares its inputs, one writes its rows
        # with the "done" mark. (Six, before: each costs the main process a millisecond or more of
        # SQLAlchemy, and on two cores that time is taken from the worker processes.)
        prepared: Exception | None = None
        with self.app.db.write() as s:
            stage = s.get(JobStage, stage_id)
            if stage.state != "pending":
                return
            stage.state, stage.attempts, stage.started_at = "running", stage.attempts + 1, utcnow()
            stage.finished_at = None
            ctx = self._context(s, job_id, stage, active.password)
            prepare, commit, on_failure = HANDLERS[ctx.stage.name]
            try:  # prepare only reads: when it fails, the running mark is still committed
                work = prepare(s, ctx)
            except Exception as exc:  # classified below, outside the transaction, like a failed compute
                prepared = exc
        try:
            if prepared is not None:
                raise prepared
            output = self._compute(work, active)
            if active.cancel.is_set():
                return  # abandoned: no rows written; _finish marks the stage cancelled
            with self.app.db.write() as s:
                commit(s, ctx, work, output)
                records.mark_stage(s, stage_id, "done")
                active.progress[stage_id] = (*records.record_progress(s, job_id), ctx.stage.key)
        except BuildTraceError as exc:
            self._fail_stage(ctx, on_failure, int(exc.exit_code), str(exc))
        except BrokenProcessPool:
            self._reset_processes()
            self._fail_stage(ctx, on_failure, int(ExitCode.internal_error),
                             "a worker process died (out of memory?); retry with fewer worker processes")
        except Exception as exc:
            log.error("stage %s failed:\n%s", ctx.stage.key, traceback.format_exc())
            self._fail_stage(ctx, on_failure, int(ExitCode.internal_error),
                             f"internal error in stage {ctx.stage.key}: {type(exc).__name__}: {exc}")

    def _context(self, s: Any, job_id: int, stage: JobStage, password: str | None) -> StageContext:
        active = self._active[job_id]
        if active.job is None:  # what stages read of it (kind, comparison, set) never changes: read once
            active.job = s.get(Job, job_id)
        job = active.job
        if active.settings_json is None:
            active.settings_json = s.get(Comparison, job.comparison_id).settings_json \
                if job.comparison_id is not None else job.params_json.get("settings", {})
        return StageContext(self.app, job, stage, plans.settings_from_json(active.settings_json, password),
                            self._engine_functions(), active.memo)

    def _engine_functions(self) -> StageFunctions:
        if self._functions is None:
            self._functions = StageFunctions.engine()
        return self._functions

    def _compute(self, work: Work, active: _ActiveJob) -> Any:
        if work.fn is None:
            return work.output
        if not work.heavy:
            return work.fn(*work.args)
        if self.in_process or not work.memory_mb:
            return self._wait_for(work, active)
        # Worker processes: the stages running at once share the run's memory budget (jobs.memory)
        if not self._memory.take(work.memory_mb, active.cancel.is_set, POLL_SECONDS):
            return None  # cancelled while waiting for room
        try:
            return self._wait_for(work, active)
        finally:
            self._memory.give_back(work.memory_mb)

    def _wait_for(self, work: Work, active: _ActiveJob) -> Any:
        future = call_in_thread(work.fn, work.args) if self.in_process else self._process_pool().submit(work.fn, *work.args)
        while True:
            try:
                return future.result(timeout=POLL_SECONDS)
            except cf.TimeoutError:
                if active.cancel.is_set():
                    future.cancel()  # if it has not started; otherwise its result is dropped
                    return None

    def _process_pool(self) -> cf.ProcessPoolExecutor:
        with self._lock:
            if self._processes is None:
                self._processes = make_process_pool(self.max_workers)
            return self._processes

    def _reset_processes(self) -> None:
        with self._lock:
            broken, self._processes = self._processes, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)

    def _fail_stage(self, ctx: StageContext, on_failure: Callable | None, code: int, message: str) -> None:
        message = self._readable(message)
        if on_failure is not None:
            try:
                with self.app.db.write() as s:
                    on_failure(s, ctx, message)
            except Exception:  # the stage's own rows may be what is broken; the failure mark matters more
                log.error("recording the failure of %s failed:\n%s", ctx.stage.key, traceback.format_exc())
        with self.app.db.write() as s:
            records.mark_stage(s, ctx.stage.id, "failed", code, message)

    def _readable(self, message: str) -> str:
        """Errors name the stored copy of a file; show the file the user imported instead."""
        from buildtrace_desktop.db.models import StoredFile

        store_root = str(self.app.store.root)
        if store_root not in message:
            return message
        with self.app.db.read() as s:
            for stored in s.scalars(select(StoredFile)):
                path = str(self.app.store.path_for(stored.sha256, stored.suffix))
                message = message.replace(path, stored.original_name)
        return message

    # ------------------------------------------------------------ end of a job

    def _finish(self, job_id: int) -> None:
        with self._lock:
            active = self._active[job_id]
            if active.finished.is_set() or active.in_flight:
                return
            if active.suspend:
                state = records.record_suspended(self.app.db, job_id)
            else:
                state = records.record_end(self.app.db, job_id, active.cancel.is_set())
            active.state = state
            active.finished.set()
        if self.on_finished is not None:
            self.on_finished(job_id, state)

    def _report_progress(self, job_id: int, stage_id: int) -> None:
        """Tell the caller how far the job is. The stage's own commit recorded the figures when it
        succeeded (one write transaction per stage, not two); a failed or skipped stage records them here."""
        active = self._active[job_id]
        counted = active.progress.pop(stage_id, None)
        if counted is not None:  # done: its commit counted, and the key is known
            done, total, key = counted
            state, error = "done", None
        else:
            with self.app.db.read() as s:
                key, state, error = s.execute(select(JobStage.key, JobStage.state, JobStage.error)
                                              .where(JobStage.id == stage_id)).one()
            with self.app.db.write() as s:
                done, total = records.record_progress(s, job_id)
        if self.on_progress is not None:
            self.on_progress(job_id, done, total, key, error or state)
