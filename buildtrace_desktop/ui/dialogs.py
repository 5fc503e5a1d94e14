"""Dialogs: import a drawing set, start a comparison, settings, About / diagnostics."""
from __future__ import annotations

import dataclasses
import datetime as dt
import platform
import sys
from pathlib import Path

from keyring.backend import KeyringBackend
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from buildtrace_desktop.errors import BuildTraceError
from buildtrace_desktop.llm.settings import (
    ENV_API_KEY,
    LLMConfig,
    delete_api_key,
    keyring_status,
    load_api_key,
    save_api_key,
)
from buildtrace_desktop.ui.settings import UserSettings
from buildtrace_desktop.viewer.layers import PALETTES

DRAWING_FILTER = "Drawings (*.pdf *.png *.jpg *.jpeg *.tif *.tiff);;All files (*)"


class ImportSetDialog(QDialog):
    """Files or folders of one revision, its label and issue date."""

    def __init__(self, paths: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import drawing set")
        self.setMinimumWidth(520)
        self.files = QListWidget()
        self.files.setMinimumHeight(90)
        add_files = QPushButton("Add files…")
        add_files.clicked.connect(self._add_files)
        add_folder = QPushButton("Add folder…")
        add_folder.clicked.connect(self._add_folder)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(add_files)
        buttons_row.addWidget(add_folder)
        buttons_row.addStretch(1)
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("e.g. IFC Rev 3")
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        form = QFormLayout()
        form.addRow("Label:", self.label_edit)
        form.addRow("Issue date:", self.date_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("PDFs, images (PNG, JPEG, TIFF) or folders of them, in sheet order:"))
        layout.addWidget(self.files)
        layout.addLayout(buttons_row)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        for path in paths or []:
            self.add_path(path)
        self._update_ok()

    def add_path(self, path: str) -> None:
        self.files.addItem(path)
        if not self.label_edit.text():
            self.label_edit.setText(Path(path).stem)
        self._update_ok()

    def _add_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Choose drawing files", "", DRAWING_FILTER)
        for path in paths:
            self.add_path(path)

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of drawings")
        if folder:
            self.add_path(folder)

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.files.count() > 0)

    @property
    def paths(self) -> list[str]:
        return [self.files.item(i).text() for i in range(self.files.count())]

    @property
    def label(self) -> str:
        return self.label_edit.text().strip()

    @property
    def issue_date(self) -> dt.date:
        return self.date_edit.date().toPython()


class CompareDialog(QDialog):
    """Pick the old and the new drawing set of a project."""

    def __init__(self, sets: list[tuple[int, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare drawing sets")
        self.old_combo = QComboBox()
        self.new_combo = QComboBox()
        for set_id, title in sets:
            self.old_combo.addItem(title, set_id)
            self.new_combo.addItem(title, set_id)
        if len(sets) >= 2:  # the usual case: the two latest revisions
            self.old_combo.setCurrentIndex(len(sets) - 2)
            self.new_combo.setCurrentIndex(len(sets) - 1)
        form = QFormLayout(self)
        form.addRow("Old set:", self.old_combo)
        form.addRow("New set:", self.new_combo)
        self.warning = QLabel("")
        self.warning.setStyleSheet("color: #b3261e;")
        form.addRow(self.warning)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Compare")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.old_combo.currentIndexChanged.connect(self._check)
        self.new_combo.currentIndexChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        same = self.old_set_id == self.new_set_id
        self.warning.setText("Choose two different sets." if same else "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not same and self.old_set_id is not None)

    @property
    def old_set_id(self) -> int | None:
        return self.old_combo.currentData()

    @property
    def new_set_id(self) -> int | None:
        return self.new_combo.currentData()


class LLMSettingsBox(QGroupBox):
    """The LLM settings (model, server, limits, images) and the API key, which goes straight to the OS
    keyring through `save_api_key` and is never kept in the dialog's values, QSettings or a log."""

    def __init__(self, config: LLMConfig, keyring_backend: KeyringBackend | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("LLM summaries (optional)", parent)
        self.config = config
        self.keyring_backend = keyring_backend
        self.model = QLineEdit(config.model)
        self.base_url = QLineEdit(config.base_url or "")
        self.base_url.setPlaceholderText("empty: OpenAI; a local server e.g. http://127.0.0.1:8080/v1")
        self.timeout = _double_box(1, 600, config.timeout_s, " s", 0)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1_000, 10_000_000)
        self.max_tokens.setSingleStep(10_000)
        self.max_tokens.setValue(config.max_tokens_per_comparison)
        self.max_tokens.setSuffix(" tokens")
        self.max_cost = _double_box(0, 1000, config.max_cost_usd, "", 2)
        self.max_cost.setPrefix("$ ")
        self.send_images = QCheckBox("Send image crops around each change")
        self.send_images.setToolTip("Crops of the old, new and overlay images, sized for the model; more tokens")
        self.send_images.setChecked(config.send_images)
        self._build_key_row()
        form = QFormLayout(self)
        form.addRow("Model:", self.model)
        form.addRow("Server (base URL):", self.base_url)
        form.addRow("Timeout per request:", self.timeout)
        form.addRow("Limit per comparison:", _row(self.max_tokens, QLabel("or"), self.max_cost))
        form.addRow("", self.send_images)
        form.addRow("API key:", _row(self.key_edit, self.store_key_button, self.remove_key_button,
                                     stretch_first=True))
        form.addRow(self.key_status)
        self.update_key_status()

    def _build_key_row(self) -> None:
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("paste a key to store it")
        self.key_edit.setToolTip("Kept in the system keyring, never in a settings file or a log")
        self.store_key_button = QPushButton("Store key")
        self.store_key_button.clicked.connect(self.store_key)
        self.remove_key_button = QPushButton("Remove key")
        self.remove_key_button.clicked.connect(self.remove_key)
        self.key_status = QLabel("")
        self.key_status.setWordWrap(True)
        self.key_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def update_key_status(self, error: str = "") -> None:
        status = keyring_status(self.keyring_backend)
        key = load_api_key(self.keyring_backend)
        lines = [error] if error else []
        if key is not None:
            lines.append(f"A key is set (from the {key.source}).")
        elif status.usable:
            lines.append("No key is stored. A local server may not need one; OpenAI does.")
        if not status.usable:
            lines.append(f"{status.message} (Windows: setx {ENV_API_KEY} sk-…; macOS or Linux: "
                         f"export {ENV_API_KEY}=sk-… in the shell that starts BuildTrace.)")
        self.key_status.setText("\n".join(lines))
        self.key_status.setStyleSheet("color: #b3261e;" if error or not status.usable else "color: #555;")
        self.key_edit.setEnabled(status.usable)
        self.store_key_button.setEnabled(status.usable)
        self.remove_key_button.setEnabled(status.usable)

    def store_key(self) -> bool:
        """Save the typed key in the keyring and clear the field. True when stored (or nothing typed)."""
        key = self.key_edit.text().strip()
        if not key:
            return True
        try:
            save_api_key(key, self.keyring_backend)
        except BuildTraceError as exc:
            self.update_key_status(str(exc))
            return False
        self.key_edit.clear()
        self.update_key_status()
        return True

    def remove_key(self) -> None:
        removed = delete_api_key(self.keyring_backend)
        self.update_key_status("" if removed else "There was no stored key to remove.")

    def values(self) -> LLMConfig:
        """The settings as an LLMConfig (raises LLMConfigError with what to fix); fields not on this page
        keep their values."""
        return dataclasses.replace(
            self.config, model=self.model.text().strip(), base_url=self.base_url.text().strip() or None,
            timeout_s=self.timeout.value(), max_tokens_per_comparison=self.max_tokens.value(),
            max_cost_usd=self.max_cost.value(), send_images=self.send_images.isChecked())


class SettingsDialog(QDialog):
    def __init__(self, settings: UserSettings, parent: QWidget | None = None,
                 keyring_backend: KeyringBackend | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.dpi = QSpinBox()
        self.dpi.setRange(50, 600)
        self.dpi.setSingleStep(25)
        self.dpi.setValue(settings.dpi)
        self.dpi.setSuffix(" DPI")
        self.dpi.setToolTip("Resolution the comparison renders pages at: higher finds smaller changes, slower")
        self.palette = QComboBox()
        for palette in PALETTES.values():
            self.palette.addItem(palette.title, palette.name)
        self.palette.setCurrentIndex(self.palette.findData(settings.palette))
        self.workers = QSpinBox()
        self.workers.setRange(1, 32)
        self.workers.setValue(settings.workers)
        self.workers.setToolTip("How many sheets are compared at once (one process each)")
        self.folder = QLineEdit(settings.data_folder)
        self.folder.setPlaceholderText("default (BUILDTRACE_HOME or your user data folder)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.llm = LLMSettingsBox(settings.llm, keyring_backend)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        form = QFormLayout(self)
        form.addRow("Comparison DPI:", self.dpi)
        form.addRow("Overlay palette:", self.palette)
        form.addRow("Worker threads:", self.workers)
        form.addRow("Data folder:", _row(self.folder, browse, stretch_first=True))
        note = QLabel("A new data folder is used the next time BuildTrace starts.")
        note.setStyleSheet("color: #555;")
        form.addRow(note)
        form.addRow(self.llm)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder")
        if folder:
            self.folder.setText(folder)

    def accept(self) -> None:
        """Close only with valid settings; a typed API key is stored in the keyring first."""
        try:
            self.values()
        except BuildTraceError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        if self.llm.store_key():
            super().accept()

    def values(self) -> UserSettings:
        return UserSettings(dpi=self.dpi.value(), palette=self.palette.currentData(),
                            workers=self.workers.value(), data_folder=self.folder.text().strip(),
                            llm=self.llm.values()).validate()


def _row(*widgets: QWidget, stretch_first: bool = False) -> QHBoxLayout:
    row = QHBoxLayout()
    for i, widget in enumerate(widgets):
        row.addWidget(widget, 1 if stretch_first and i == 0 else 0)
    return row


def _double_box(low: float, high: float, value: float, suffix: str, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


def diagnostics(app) -> list[tuple[str, str]]:  # noqa: ANN001 - AppContext
    """What `buildtrace doctor` prints: versions, Tesseract, data folder and database."""
    import cv2
    import numpy
    import pymupdf
    import PySide6
    import sqlalchemy

    import buildtrace_desktop
    from buildtrace_desktop.errors import BuildTraceError
    from buildtrace_desktop.processing import ocr

    rows = [
        ("BuildTrace", buildtrace_desktop.__version__),
        ("Python", f"{platform.python_version()} ({sys.platform})"),
        ("PySide6 / Qt", PySide6.__version__),
        ("PyMuPDF", pymupdf.VersionBind),
        ("OpenCV", cv2.__version__),
        ("NumPy", numpy.__version__),
        ("SQLAlchemy", sqlalchemy.__version__),
    ]
    try:
        info = ocr.probe_tesseract()
        rows.append(("Tesseract", f"{info.version} at {info.path}"))
    except BuildTraceError as exc:
        rows.append(("Tesseract", f"NOT FOUND. {exc}"))
    rows.append(("Data folder", str(app.home)))
    rows.append(("Database", str(app.config.db_path)))
    return rows


class AboutDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About BuildTrace Desktop")
        self.setMinimumSize(620, 360)
        title = QLabel("<h2>BuildTrace Desktop</h2><p>Compares revisions of construction drawing sets "
                       "offline: sheet matching, alignment, change regions and overlays.</p>")
        title.setWordWrap(True)
        self.text = QTextEdit()
        self.text.setReadOnly(True)
        self.text.setPlainText("\n".join(f"{key + ':':<14} {value}" for key, value in rows))
        self.text.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        font = self.text.font()
        font.setFamily("monospace")
        self.text.setFont(font)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: (self.text.selectAll(), self.text.copy()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons, 0, Qt.AlignmentFlag.AlignRight)
