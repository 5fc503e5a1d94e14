"""The job runner's plain callbacks as Qt signals, delivered in the GUI thread (queued connections)."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from buildtrace_desktop.jobs.runner import JobRunner


class JobSignals(QObject):
    """`progress(job_id, done, total, stage_key, message)` and `finished(job_id, state)`.

    The runner calls the emitters from its worker threads; Qt queues each emission to the receivers'
    (GUI) thread because the receivers live there."""

    progress = Signal(int, int, int, str, str)
    finished = Signal(int, str)
    submitted = Signal(int)

    def emit_progress(self, job_id: int, done: int, total: int, stage_key: str, message: str) -> None:
        self.progress.emit(job_id, done, total, stage_key, message)

    def emit_finished(self, job_id: int, state: str) -> None:
        self.finished.emit(job_id, state)


def make_runner(app, max_workers: int, parent: QObject | None = None) -> tuple[JobRunner, JobSignals]:  # noqa: ANN001
    """A JobRunner whose callbacks come out as the returned object's Qt signals."""
    signals = JobSignals(parent)
    runner = JobRunner(app, max_workers=max_workers, on_progress=signals.emit_progress,
                       on_finished=signals.emit_finished)
    return runner, signals
