"""The summary panel beside the change list: the comparison's summary (offline or by an LLM), its versions,
the user's edits, and buttons to summarise again.

Summaries are made on the panel's own QThreadPool (the LLM call can take a minute); the worker reports back
through queued signals, so the GUI never waits. An edit is saved at once through `edit_summary`, which adds
a new version: the machine's version stays and can be picked again in the version list.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from keyring.backend import KeyringBackend
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from buildtrace_desktop.errors import BuildTraceError
from buildtrace_desktop.llm.settings import LLMConfig
from buildtrace_desktop.services.app import AppContext
from buildtrace_desktop.services.summaries import (
    OFFLINE,
    SummarizeOutcome,
    SummaryRecord,
    edit_summary,
    latest_summaries,
    summarize_comparison,
    summary_versions,
)
from buildtrace_desktop.ui.errors import user_message

log = logging.getLogger(__name__)
ERROR_STYLE = "color: #b3261e;"
NOTE_STYLE = "color: #555;"


@dataclass(frozen=True)
class SummaryRequest:
    """One background summarising run: which comparison, offline or LLM, with which settings."""

    comparison_id: int
    mode: str  # "offline" | "llm"
    config: LLMConfig
    keyring_backend: KeyringBackend | None = None
    show_result: bool = True  # False for the automatic offline summary: it must not switch the view


class _WorkerSignals(QObject):
    done = Signal(object, object)  # SummaryRequest, SummarizeOutcome
    failed = Signal(object, str)  # SummaryRequest, user-facing message


class _SummaryTask(QRunnable):
    """Runs `summarize_comparison` off the GUI thread; every error becomes a message, never a traceback."""

    def __init__(self, app: AppContext, request: SummaryRequest, signals: _WorkerSignals) -> None:
        super().__init__()
        self.app, self.request, self.signals = app, request, signals

    def run(self) -> None:
        request = self.request
        try:
            outcome = summarize_comparison(self.app, request.comparison_id, request.mode, llm_config=request.config,
                                           keyring_backend=request.keyring_backend)
        except Exception as exc:  # noqa: BLE001 - shown in the panel
            if not isinstance(exc, BuildTraceError):
                log.error("summary failed", exc_info=exc)
            self.signals.failed.emit(request, user_message(exc))
            return
        self.signals.done.emit(request, outcome)


def version_label(record: SummaryRecord) -> str:
    """'offline · v2 · your edit', 'gpt-4o-mini · v1 · machine'."""
    who = "your edit" if record.edited_by_user else "machine"
    return f"{record.source} · v{record.version} · {who}"


def display_text(record: SummaryRecord) -> str:
    """The summary as plain text. A model's items are listed under its overall summary; a user's edit is
    shown exactly as written (it already holds what the user kept of them)."""
    items = record.data.get("items") if not record.edited_by_user and record.source != OFFLINE else None
    if not items:
        return record.text
    lines = [record.text, ""]
    for item in items:
        details = ", ".join(str(item[k]) for k in ("sheet", "location", "trade", "severity") if item.get(k))
        lines.append(f"• {item.get('title', '')} ({details}): {item.get('description', '')}")
    return "\n".join(lines)


class SummaryPanel(QWidget):
    """Shows one summary version of the open comparison; edit, pick a version, or summarise again.

    `llm_config` and `keyring_backend` are read when the LLM button is pressed (the window updates them
    from Settings; tests pass an in-memory keyring)."""

    summaryShown = Signal(int)  # summary id

    def __init__(self, app: AppContext, llm_config: LLMConfig | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.llm_config = llm_config or LLMConfig()
        self.keyring_backend: KeyringBackend | None = None
        self.comparison_id: int | None = None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # one summary at a time: runs on one comparison must not interleave
        self._pending: list[SummaryRequest] = []
        self._signals = _WorkerSignals(self)
        self._signals.done.connect(self._on_done)
        self._signals.failed.connect(self._on_failed)
        self._records: dict[int, SummaryRecord] = {}
        self._build()
        self.set_comparison(None)

    # --- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = QLabel("Summary")
        self.title.setStyleSheet("font-weight: bold;")
        self.title.setWordWrap(True)
        self.version_combo = QComboBox()
        self.version_combo.setToolTip("Every version: the machine's summaries and your edits")
        self.version_combo.currentIndexChanged.connect(self._version_picked)
        self.shown_label = QLabel("")
        self.shown_label.setWordWrap(True)
        self.shown_label.setStyleSheet(NOTE_STYLE)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator: the service reports no steps
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.working_label = QLabel("")
        self.working_label.setStyleSheet(NOTE_STYLE)
        self.edit_button = QPushButton("Edit")
        self.edit_button.clicked.connect(self._edit_or_save)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_edit)
        self.cancel_button.hide()
        self.offline_button = QPushButton("Summarize (offline)")
        self.offline_button.clicked.connect(lambda: self.summarize(OFFLINE))
        self.llm_button = QPushButton("Summarize with LLM")
        self.llm_button.clicked.connect(lambda: self.summarize("llm"))
        self._lay_out()

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Version:"))
        top.addWidget(self.version_combo, 1)
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.edit_button)
        edit_row.addWidget(self.cancel_button)
        edit_row.addStretch(1)
        edit_row.addWidget(self.offline_button)
        edit_row.addWidget(self.llm_button)
        busy_row = QHBoxLayout()
        busy_row.addWidget(self.working_label)
        busy_row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.shown_label)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.message)
        layout.addLayout(busy_row)
        layout.addLayout(edit_row)

    # --- what is shown -----------------------------------------------------------------------------
    @property
    def shown(self) -> SummaryRecord | None:
        summary_id = self.version_combo.currentData()
        return self._records.get(summary_id) if summary_id is not None else None

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def editing(self) -> bool:
        return not self.text.isReadOnly()

    def set_comparison(self, comparison_id: int | None, auto_summarize: bool = False, heading: str = "") -> None:
        """Show `comparison_id`'s newest summary under `heading` (e.g. "Rev A → Rev B"); with
        `auto_summarize`, make the offline one in the background when none is stored yet."""
        self.comparison_id = comparison_id
        self.title.setText(f"Summary of {heading}" if heading and comparison_id is not None else "Summary")
        self.cancel_edit()
        self.show_message("")
        self.refresh()
        if auto_summarize and comparison_id is not None and not self._records:
            self.summarize(OFFLINE, show_result=False)
        self._update_buttons()

    def refresh(self, select_id: int | None = None) -> None:
        """Reload the versions from the database; show `select_id`, else the newest version."""
        records = self._load_records()
        self._records = {r.id: r for r in records}
        shown = self.shown
        keep = select_id or (shown.id if shown is not None and shown.id in self._records else None)
        newest = max(records, key=lambda r: r.id).id if records else None
        self.version_combo.blockSignals(True)
        self.version_combo.clear()
        for record in records:
            self.version_combo.addItem(version_label(record), record.id)
        self.version_combo.blockSignals(False)
        target = keep or newest
        if target is not None:
            self.version_combo.setCurrentIndex(self.version_combo.findData(target))
        self._show_current()

    def _load_records(self) -> list[SummaryRecord]:
        if self.comparison_id is None:
            return []
        sources = [r.source for r in latest_summaries(self.app, self.comparison_id) if r.pair_id is None]
        return [v for source in sources for v in summary_versions(self.app, self.comparison_id, source)]

    def _version_picked(self, _index: int) -> None:
        self.cancel_edit()
        self._show_current()

    def _show_current(self) -> None:
        record = self.shown
        if self.comparison_id is None:
            self.text.setPlainText("")
            self.text.setPlaceholderText("Open a comparison to see its summary.")
            self.shown_label.setText("")
        elif record is None:
            self.text.setPlainText("")
            self.text.setPlaceholderText("No summary yet: press “Summarize (offline)”.")
            self.shown_label.setText("")
        else:
            self.text.setPlainText(display_text(record))
            self.shown_label.setText(self._describe(record))
            self.summaryShown.emit(record.id)
        self._update_buttons()

    def _describe(self, record: SummaryRecord) -> str:
        source = "the offline summary" if record.source == OFFLINE else f"the summary by {record.source}"
        if record.edited_by_user:
            base = record.data.get("edited_from")
            kept = self._records.get(base) if isinstance(base, int) else None
            kept_text = f"; the version you edited (v{kept.version}) is kept" if kept else ""
            return f"Showing your edit of {source}, version {record.version}{kept_text}."
        usage = ""
        if record.tokens_in or record.tokens_out:
            usage = f" ({record.tokens_in + record.tokens_out} tokens, about ${record.cost_usd:.4f})"
        return f"Showing {source}, version {record.version}, as the machine wrote it{usage}."

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    @property
    def message_text(self) -> str:
        return self.message.text() if not self.message.isHidden() else ""

    # --- editing -----------------------------------------------------------------------------------
    def _edit_or_save(self) -> None:
        if self.editing:
            self.save_edit()
        else:
            self.start_edit()

    def start_edit(self) -> None:
        if self.shown is None:
            return
        self.text.setReadOnly(False)
        self.text.setFocus()
        self.edit_button.setText("Save")
        self.cancel_button.show()
        self._update_buttons()

    def cancel_edit(self) -> None:
        was_editing = self.editing
        self.text.setReadOnly(True)
        self.edit_button.setText("Edit")
        self.cancel_button.hide()
        if was_editing:
            self._show_current()

    def save_edit(self) -> SummaryRecord | None:
        """Store the edited text as a new version and show it; the version edited stays."""
        base = self.shown
        if base is None:
            return None
        try:
            record = edit_summary(self.app, base.id, self.text.toPlainText())
        except BuildTraceError as exc:
            self.show_message(user_message(exc))
            return None
        self.text.setReadOnly(True)
        self.edit_button.setText("Edit")
        self.cancel_button.hide()
        self.show_message("")
        self.refresh(select_id=record.id)
        return record

    # --- summarising in the background -------------------------------------------------------------
    def summarize(self, mode: str, comparison_id: int | None = None, show_result: bool = True) -> bool:
        """Start a summary run on the pool (`comparison_id` defaults to the shown one). False when nothing
        was started (no comparison, or the same run is already waiting)."""
        target = comparison_id if comparison_id is not None else self.comparison_id
        if target is None:
            return False
        request = SummaryRequest(target, mode, self.llm_config, self.keyring_backend, show_result)
        if any(p.comparison_id == target and p.mode == mode for p in self._pending):
            return False
        self._pending.append(request)
        if target == self.comparison_id:
            self.show_message("")
        self.pool.start(_SummaryTask(self.app, request, self._signals))
        self._update_buttons()
        return True

    def _finish(self, request: SummaryRequest) -> None:
        if request in self._pending:
            self._pending.remove(request)
        self._update_buttons()

    def _on_done(self, request: SummaryRequest, outcome: SummarizeOutcome) -> None:
        self._finish(request)
        if request.comparison_id != self.comparison_id:
            return  # made for a comparison not shown now: it is stored, and shown when opened
        if outcome.llm_error:
            self.show_message(f"The LLM summary failed: {outcome.llm_error} The offline summary is kept.")
        if self.editing:
            self._records = {r.id: r for r in self._load_records()}  # do not disturb the user's typing
            return
        self.refresh(select_id=outcome.best.id if request.show_result else None)

    def _on_failed(self, request: SummaryRequest, message: str) -> None:
        self._finish(request)
        if request.comparison_id == self.comparison_id:
            kind = "LLM summary" if request.mode == "llm" else "summary"
            self.show_message(f"The {kind} could not be made: {message}")

    def _update_buttons(self) -> None:
        has_comparison = self.comparison_id is not None
        running_here = [p for p in self._pending if p.comparison_id == self.comparison_id]
        self.edit_button.setEnabled(self.shown is not None or self.editing)
        self.offline_button.setEnabled(has_comparison and not running_here and not self.editing)
        self.llm_button.setEnabled(has_comparison and not running_here and not self.editing)
        self.version_combo.setEnabled(not self.editing and self.version_combo.count() > 0)
        self.progress.setVisible(bool(running_here))
        modes = {p.mode for p in running_here}
        self.working_label.setText(
            "Asking the LLM…" if "llm" in modes else "Summarizing…" if modes else "")
        self.working_label.setVisible(bool(running_here))

    def shutdown(self, timeout_ms: int = 120_000) -> bool:
        """Wait for a running summary (the database must outlive it). True when none is left."""
        return self.pool.waitForDone(timeout_ms)
