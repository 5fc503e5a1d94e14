"""Dialogs: import a drawing set, start a comparison, settings, About / diagnostics."""
from __future__ import annotations

import datetime as dt
import platform
import sys
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
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


class SettingsDialog(QDialog):
    def __init__(self, settings: UserSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(480)
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
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("Comparison DPI:", self.dpi)
        form.addRow("Overlay palette:", self.palette)
        form.addRow("Worker threads:", self.workers)
        form.addRow("Data folder:", folder_row)
        note = QLabel("A new data folder is used the next time BuildTrace starts.")
        note.setStyleSheet("color: #555;")
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder")
        if folder:
            self.folder.setText(folder)

    def values(self) -> UserSettings:
        return UserSettings(dpi=self.dpi.value(), palette=self.palette.currentData(),
                            workers=self.workers.value(), data_folder=self.folder.text().strip()).validate()


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
