"""The main window: projects and sets on the left, the viewer in the centre, the sheet list and change
list (with the comparison's summary in a tab beside it) on the right, the job panel at the bottom. Every heavy step runs on the JobRunner (or, for export, a
worker thread); the window only reads results and writes what the user decides (review, corrections)."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from buildtrace_desktop.db.models import Job
from buildtrace_desktop.errors import BuildTraceError
from buildtrace_desktop.processing.types import CompareSettings
from buildtrace_desktop.services import projects
from buildtrace_desktop.services.compare import sheet_rows
from buildtrace_desktop.ui.change_list import ChangeListPanel
from buildtrace_desktop.ui.dialogs import AboutDialog, SettingsDialog, diagnostics
from buildtrace_desktop.ui.errors import ErrorBanner, guarded, show_error, user_message
from buildtrace_desktop.ui.job_bridge import make_runner
from buildtrace_desktop.ui.job_panel import JobPanel
from buildtrace_desktop.ui.project_pane import ProjectPane
from buildtrace_desktop.ui.settings import UserSettings, save_settings
from buildtrace_desktop.ui.sheet_list import SheetListPanel, SheetRow
from buildtrace_desktop.ui.summary_panel import SummaryPanel
from buildtrace_desktop.ui.viewer_widget import PairViewer
from buildtrace_desktop.viewer.changes import ChangeItem, ChangeListModel, groups_from_json
from buildtrace_desktop.viewer.state import ViewerState
from buildtrace_desktop.viewer.tiles import PageSpec

log = logging.getLogger(__name__)


class _ExportSignals(QObject):
    done = Signal(str)
    failed = Signal(str)


class MainWindow(QMainWindow):
    def __init__(self, app, settings: UserSettings, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.app = app
        self.settings = settings
        self.setWindowTitle("BuildTrace Desktop")
        self.resize(1440, 900)  # a common laptop screen; the window can shrink to 1280 x 720
        self.runner, self.job_signals = make_runner(app, settings.workers, self)
        self.comparison_id: int | None = None
        self.pair_id: int | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.about_dialog: AboutDialog | None = None
        self._export_signals = _ExportSignals(self)
        self._export_signals.done.connect(lambda path: self.statusBar().showMessage(f"Exported to {path}", 10000))
        self._export_signals.failed.connect(self.banner_error)
        self.state = ViewerState(palette=settings.palette)
        self.changes = ChangeListModel()
        self._build()
        self._connect()
        self._build_menus()
        QTimer.singleShot(0, self._resume_jobs)

    # --- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = ErrorBanner()
        self.project_pane = ProjectPane(self.app, self.compare_settings)
        self.viewer = PairViewer(self.state, self.changes)
        self.sheet_list = SheetListPanel()
        self.change_panel = ChangeListPanel(self.changes, self._save_review)
        self.summary_panel = SummaryPanel(self.app, self.settings.llm)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.change_panel, "Changes")
        self.side_tabs.addTab(self.summary_panel, "Summary")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.sheet_list)
        right.addWidget(self.side_tabs)
        right.setSizes([200, 600])
        right.setMinimumWidth(360)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.project_pane)
        main.addWidget(self.viewer)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setSizes([300, 820, 480])
        self.project_pane.setMinimumWidth(250)
        self.main_splitter = main
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(main, 1)
        self.setCentralWidget(central)
        self.job_panel = JobPanel(lambda: projects.list_jobs(self.app), lambda j: projects.list_stages(self.app, j),
                                  self.describe_job)
        self.job_dock = QDockWidget("Jobs", self)
        self.job_dock.setObjectName("jobs_dock")
        self.job_dock.setWidget(self.job_panel)
        self.job_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                  | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.job_dock)
        self.resizeDocks([self.job_dock], [120], Qt.Orientation.Vertical)
        self.position_label = QLabel("")
        self.statusBar().addPermanentWidget(self.position_label)

    def _connect(self) -> None:
        self.project_pane.jobCreated.connect(self.start_job)
        self.project_pane.comparisonChosen.connect(self.open_comparison)
        self.project_pane.projectChanged.connect(lambda _pid: self._clear_comparison())
        self.project_pane.exportRequested.connect(self.ask_export)
        self.sheet_list.pairChosen.connect(self.open_pair)
        self.viewer.statusMessage.connect(self.position_label.setText)
        self.change_panel.saveFailed.connect(lambda text: show_error(self, _Message(text)))
        self.changes.events.current_group.connect(self._zoom_to_group)
        self.job_signals.progress.connect(self._job_progress)
        self.job_signals.finished.connect(self._job_finished)
        self.job_panel.cancelRequested.connect(self.cancel_job)
        self.job_panel.retryRequested.connect(self.retry_job)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        pane = self.project_pane
        for text, keys, slot, on_bar in (
            ("New project…", "Ctrl+Shift+N", pane.ask_new_project, True),
            ("Import drawing set…", "Ctrl+I", lambda: pane.ask_import([]), True),
            ("Compare sets…", "Ctrl+M", pane.ask_compare, True),
            ("Export comparison…", "Ctrl+E", lambda: self.ask_export(self.comparison_id), True),
            ("Settings…", "Ctrl+,", self.open_settings, True),
            ("Quit", "Ctrl+Q", self.close, False),
        ):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _=False, s=slot: s())
            file_menu.addAction(action)
            if on_bar:
                toolbar.addAction(action)
        view_menu = self.menuBar().addMenu("&View")
        for action in (*self.viewer.actions_by_name.values(), *self.change_panel.actions_by_name.values()):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.job_dock.toggleViewAction())
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("About / diagnostics…", self)
        about.triggered.connect(self.open_about)
        help_menu.addAction(about)

    # --- jobs --------------------------------------------------------------------------------------
    def compare_settings(self) -> CompareSettings:
        return CompareSettings(dpi=float(self.settings.dpi))

    def describe_job(self, job: Job) -> str:
        """'#3 compare Rev A → Rev B', '#1 read sheets of IFC Rev 3'."""
        try:
            if job.kind == "compare" and job.comparison_id is not None:
                comparison = projects.get_comparison(self.app, job.comparison_id)
                old = projects.get_set(self.app, comparison.old_set_id).label
                new = projects.get_set(self.app, comparison.new_set_id).label
                return f"#{job.id} compare {old} → {new}"
            if job.set_id is not None:
                return f"#{job.id} read sheets of {projects.get_set(self.app, job.set_id).label}"
        except BuildTraceError:  # the set or comparison was deleted meanwhile
            pass
        return f"#{job.id} {job.kind}"

    @guarded
    def start_job(self, job_id: int) -> None:
        self.runner.submit(job_id)
        self.job_panel.refresh()
        self.job_panel.select_job(job_id)

    @guarded
    def cancel_job(self, job_id: int) -> None:
        self.runner.cancel(job_id)
        self.job_panel.refresh()

    @guarded
    def retry_job(self, job_id: int) -> None:
        self.banner.hide()
        self.runner.retry(job_id)
        self.job_panel.refresh()

    def _resume_jobs(self) -> None:
        try:
            resumed = self.runner.resume_incomplete()
        except Exception as exc:  # noqa: BLE001
            self.banner_error(user_message(exc))
            return
        if resumed:
            self.statusBar().showMessage(f"Resumed {len(resumed)} unfinished job(s) from last time", 10000)
        self.job_panel.refresh()

    def _job_progress(self, job_id: int, done: int, total: int, stage_key: str, message: str) -> None:
        self.job_panel.refresh()
        self.statusBar().showMessage(f"Job {job_id}: {done}/{total} · {stage_key}: {message}", 5000)
        if stage_key.startswith("sheet"):
            self.project_pane.refresh_sheets()

    def _job_finished(self, job_id: int, state: str) -> None:
        self.job_panel.refresh()
        job = projects.get_job(self.app, job_id)
        self.project_pane.refresh_sets()
        self.project_pane.refresh_comparisons()
        if state == "failed":
            self.banner_error(f"Job {job_id} failed: {job.error_message or 'unknown error'}. "
                              "Fix the cause, then select the job below and press Retry.")
        if job.comparison_id is not None and job.comparison_id == self.comparison_id:
            self.open_comparison(job.comparison_id, force=True)
        if state == "done" and job.kind == "compare" and job.comparison_id is not None:
            # The offline summary belongs to every finished comparison; made in the background.
            self.summary_panel.summarize("offline", job.comparison_id, show_result=False)
        self.statusBar().showMessage(f"Job {job_id} {state}", 10000)

    def banner_error(self, text: str) -> None:
        self.banner.show_message(text)

    # --- comparison, sheet pair, review ------------------------------------------------------------
    def _clear_comparison(self) -> None:
        self.comparison_id = None
        self.pair_id = None
        self.sheet_list.set_rows([])
        self.changes.reset([])
        self.viewer.close_pair()
        self.summary_panel.set_comparison(None)

    @guarded
    def open_comparison(self, comparison_id: int, force: bool = False) -> None:
        if comparison_id == self.comparison_id and not force:
            return
        self.comparison_id = comparison_id
        comparison = projects.get_comparison(self.app, comparison_id)
        rows = [_sheet_row(r) for r in sheet_rows(self.app, comparison_id)]
        heading = "Sheets" if comparison.status == "done" else f"Sheets (comparison {comparison.status})"
        self.sheet_list.set_rows(rows, heading)
        self.project_pane.select_comparison(comparison_id)
        self._show_summary(comparison)
        if not rows:
            self.viewer.close_pair()
            self.changes.reset([])
            return
        keep = self.pair_id if any(r.pair_id == self.pair_id for r in rows) else None
        first = keep or next((r.pair_id for r in rows if r.changes), rows[0].pair_id)
        self.pair_id = None
        self.sheet_list.select_pair(first)
        if self.pair_id != first:
            self.open_pair(first)

    def _show_summary(self, comparison) -> None:  # noqa: ANN001 - Comparison row
        """The comparison's summary in the Summary tab; the offline one is made when none is stored."""
        if self.summary_panel.editing and self.summary_panel.comparison_id == comparison.id:
            return  # a job finishing must not throw away what the user is typing
        old = projects.get_set(self.app, comparison.old_set_id).label
        new = projects.get_set(self.app, comparison.new_set_id).label
        self.summary_panel.set_comparison(comparison.id, auto_summarize=comparison.status == "done",
                                          heading=f"{old} → {new}")

    @guarded
    def open_pair(self, pair_id: int) -> None:
        if pair_id == self.pair_id or self.comparison_id is None:
            return
        pair = next((p for p in projects.list_pairs(self.app, self.comparison_id) if p.id == pair_id), None)
        if pair is None:
            return
        self.pair_id = pair_id
        old = projects.get_sheet(self.app, pair.old_sheet_id) if pair.old_sheet_id else None
        new = projects.get_sheet(self.app, pair.new_sheet_id) if pair.new_sheet_id else None
        comparison = projects.get_comparison(self.app, self.comparison_id)
        labels = {s.id: s.label for s in projects.list_sets(self.app, comparison.project_id)}
        shown = new or old
        number = pair.number_of(shown) or f"page {shown.set_index + 1}"
        new_spec = PageSpec.of(str(projects.sheet_file_path(self.app, shown)), shown.page_index)
        old_spec = None
        if old is not None and new is not None:
            old_spec = PageSpec.of(str(projects.sheet_file_path(self.app, old)), old.page_index, pair.matrix_json)
        size = (shown.width_pt or 0.0, shown.height_pt or 0.0)
        items = [_change_item(row, number, size) for row in projects.list_changes(self.app, pair_id)]
        # The groups first: the viewer only hands the list its changes, the panel needs both at once.
        self.changes.reset(items, groups_from_json(pair.groups_json, items))
        old_title = f"Old · {labels.get(comparison.old_set_id, '')} · {pair.number_of(old) or ''}" if old else \
            "Old · (sheet not in the old set)"
        new_title = f"New · {labels.get(comparison.new_set_id, '')} · {number}" if new else \
            f"Removed sheet {number} (only in the old set)"
        self.viewer.open_pair(old_spec, new_spec, None, old_title, new_title)
        self.change_panel.title.setText(f"Changes on {number}")
        notes = [*(pair.match_notes_json or []), *(pair.warnings_json or [])]
        if notes:
            self.statusBar().showMessage("; ".join(str(n) for n in notes), 15000)

    def _zoom_to_group(self, group: int) -> None:
        """Show a group picked as a whole: all of it, with a margin (a change's zoom adds its own size on
        every side, too much around a cloud)."""
        if group < 0 or not self.viewer.has_pair:
            return
        x0, y0, x1, y1 = self.changes.groups[group].bbox
        margin = max(72.0, 0.15 * max(x1 - x0, y1 - y0))
        view = self.viewer.main_view
        size = view.viewport().rect()
        zoom = min(size.width() / (x1 - x0 + 2 * margin), size.height() / (y1 - y0 + 2 * margin), 3.0)
        view.set_view(zoom, (x0 + x1) / 2, (y0 + y1) / 2)

    def _save_review(self, change_id: int, status: str, note: str) -> None:
        projects.set_review(self.app, change_id, status, note)
        shown = self.changes.index_of(change_id) + 1  # the number the list and the boxes show
        self.statusBar().showMessage(f"Saved: change {shown or change_id} is {status}", 4000)

    # --- export, settings, about -------------------------------------------------------------------
    @guarded
    def ask_export(self, comparison_id: int | None) -> None:
        if comparison_id is None:
            raise _Message("Open a finished comparison first, then export it.")
        folder = QFileDialog.getExistingDirectory(self, "Export the comparison into folder")
        if folder:
            self.export(comparison_id, folder)

    def export(self, comparison_id: int, folder: str) -> threading.Thread:
        """Write report.pdf, changes.csv (with review status) and overlay PNGs in a worker thread."""
        from buildtrace_desktop.services.export import export_comparison

        def work() -> None:
            try:
                path = export_comparison(self.app, comparison_id, Path(folder))
                self._export_signals.done.emit(str(path.parent))
            except Exception as exc:  # noqa: BLE001 - reported in the banner
                self._export_signals.failed.emit(f"Export failed: {user_message(exc)}")

        self.statusBar().showMessage(f"Exporting comparison {comparison_id} to {folder}…")
        thread = threading.Thread(target=work, name="export", daemon=True)
        thread.start()
        return thread

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self, keyring_backend=self.summary_panel.keyring_backend)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.values()))
        self.settings_dialog = dialog
        dialog.open()

    @guarded
    def apply_settings(self, settings: UserSettings) -> None:
        save_settings(settings)
        restart = settings.workers != self.settings.workers or settings.data_folder != self.settings.data_folder
        self.settings = settings
        self.state.palette = settings.palette
        self.summary_panel.llm_config = settings.llm
        if restart:
            self.statusBar().showMessage("Saved. Worker threads and data folder apply when BuildTrace restarts.", 10000)

    def open_about(self) -> None:
        self.about_dialog = AboutDialog(diagnostics(self.app), self)
        self.about_dialog.open()

    # --- closing -----------------------------------------------------------------------------------
    def running_jobs(self) -> list[int]:
        return [job.id for job in projects.list_jobs(self.app, states=("running", "pending"))
                if self.runner.is_active(job.id)]

    def confirm_quit(self, running: list[int]) -> bool:
        answer = QMessageBox.question(
            self, "Jobs are running",
            f"{len(running)} job(s) are still running. Quit anyway? They continue where they stopped "
            "the next time you open BuildTrace.")
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        running = self.running_jobs()
        if running and not self.confirm_quit(running):
            event.ignore()
            return
        # Running jobs are suspended, not cancelled: finished stages stay committed, the rest is left
        # pending and `resume_incomplete()` continues it on the next start.
        self.statusBar().showMessage("Stopping jobs…")
        self.viewer.close_pair()
        self.runner.shutdown()
        self.summary_panel.shutdown()
        event.accept()


class _Message(BuildTraceError):
    """A message for the user from the window itself (not an engine error)."""


def _sheet_row(row: dict) -> SheetRow:
    status = "renumbered" if row["renumbered"] else row["status"]
    number = row["sheet_number"] or "(no number)"
    if row["renumbered"] and row["old_sheet_number"]:
        number = f"{row['old_sheet_number']} → {number}"
    warning = "; ".join(row["warnings"])
    if row["diff_state"] == "failed":
        status = "failed"
    return SheetRow(row["pair_id"], number, row["title"] or "", status, row["changes"], warning)


def _change_item(row, sheet: str, page_size: tuple[float, float]) -> ChangeItem:  # noqa: ANN001 - ChangeRow
    return ChangeItem(
        change_id=row.id, kind=row.kind, bbox=row.bbox, sheet=sheet, page_size=page_size,
        text_removed=tuple(row.text_removed or ()), text_added=tuple(row.text_added or ()),
        status=row.review_status or "open", note=row.note or "",
        what=row.what or "", group=row.group_id, cloud=row.cloud, tag=row.tag,
    )
