"""The job panel: every job with its stages, progress, elapsed time, cancel and retry."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from buildtrace_desktop.db.models import Job, JobStage
from buildtrace_desktop.jobs.plans import describe_key

COLUMNS = ("Job / stage", "State", "Progress", "Elapsed", "Message")
STATE_COLOURS = {"failed": "#b3261e", "cancelled": "#777777", "done": "#1b7f3b", "running": "#0b57d0"}


class JobPanel(QWidget):
    """Shows what `list_jobs()` / `list_stages(job_id)` return; `cancelRequested` / `retryRequested` go to the
    main window, which talks to the runner. Refreshes on progress signals and once a second for the clocks."""

    cancelRequested = Signal(int)
    retryRequested = Signal(int)

    def __init__(self, list_jobs: Callable[[], list[Job]], list_stages: Callable[[int], list[JobStage]],
                 describe_job: Callable[[Job], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._list_jobs = list_jobs
        self._list_stages = list_stages
        self._describe_job = describe_job
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 420)
        header.resizeSection(1, 80)
        header.resizeSection(2, 160)
        header.resizeSection(3, 70)
        header.setStretchLastSection(True)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.cancel_button = QPushButton("Cancel job")
        self.cancel_button.clicked.connect(lambda: self._request(self.cancelRequested))
        self.retry_button = QPushButton("Retry job")
        self.retry_button.clicked.connect(lambda: self._request(self.retryRequested))
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._jobs: dict[int, Job] = {}
        self._expanded: set[int] = set()
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self._tick)
        self.clock.start()
        self.refresh()

    def selected_job_id(self) -> int | None:
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def select_job(self, job_id: int) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == job_id:
                self.tree.setCurrentItem(item)
                return

    def _request(self, signal: Signal) -> None:
        job_id = self.selected_job_id()
        if job_id is not None:
            signal.emit(job_id)

    def refresh(self) -> None:
        """Rebuild the tree from the database, keeping the selection and which jobs are expanded."""
        selected = self.selected_job_id()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            job_id = item.data(0, Qt.ItemDataRole.UserRole)
            (self._expanded.add if item.isExpanded() else self._expanded.discard)(job_id)
        self.tree.clear()
        self._jobs = {job.id: job for job in self._list_jobs()}
        for job in self._jobs.values():
            item = self._job_item(job)
            self.tree.addTopLevelItem(item)
            self._add_progress_bar(item, job.progress)
            for stage in self._list_stages(job.id):
                self._stage_item(item, stage)
            item.setExpanded(job.id in self._expanded)
        if selected is not None:
            self.select_job(selected)
        elif self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self._update_buttons()

    def _job_item(self, job: Job) -> QTreeWidgetItem:
        item = QTreeWidgetItem([self._describe_job(job), job.state, "", _elapsed(job.started_at, job.finished_at),
                                job.error_message or ""])
        item.setData(0, Qt.ItemDataRole.UserRole, job.id)
        item.setForeground(1, _brush(job.state))
        if job.error_message:
            item.setToolTip(4, job.error_message)
        return item

    def _stage_item(self, parent: QTreeWidgetItem, stage: JobStage) -> None:
        attempts = f" (attempt {stage.attempts})" if stage.attempts > 1 else ""
        item = QTreeWidgetItem([describe_key(stage.key), stage.state + attempts, "",
                                _elapsed(stage.started_at, stage.finished_at) if stage.started_at else "",
                                stage.error or ""])
        item.setForeground(1, _brush(stage.state))
        if stage.error:
            item.setToolTip(4, stage.error)
        parent.addChild(item)

    def _add_progress_bar(self, item: QTreeWidgetItem, fraction: float) -> None:
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setValue(round(fraction * 1000))
        bar.setFormat(f"{fraction * 100:.0f} %")
        bar.setMaximumHeight(16)
        self.tree.setItemWidget(item, 2, bar)

    def progress_of(self, job_id: int) -> float:
        job = self._jobs.get(job_id)
        return job.progress if job else 0.0

    def state_of(self, job_id: int) -> str | None:
        job = self._jobs.get(job_id)
        return job.state if job else None

    def _update_buttons(self) -> None:
        job = self._jobs.get(self.selected_job_id() or -1)
        self.cancel_button.setEnabled(job is not None and job.state in ("pending", "running"))
        self.retry_button.setEnabled(job is not None and job.state in ("failed", "cancelled"))

    def _tick(self) -> None:
        """Advance the elapsed time of running jobs without a database round trip."""
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            job = self._jobs.get(item.data(0, Qt.ItemDataRole.UserRole))
            if job is not None and job.state == "running":
                item.setText(3, _elapsed(job.started_at, None))


def _elapsed(started: dt.datetime | None, finished: dt.datetime | None) -> str:
    if started is None:
        return ""
    end = finished or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    seconds = max(0, int((end - started).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _brush(state: str):  # noqa: ANN202 - QBrush
    from PySide6.QtGui import QBrush, QColor

    return QBrush(QColor(STATE_COLOURS.get(state, "#000000")))
