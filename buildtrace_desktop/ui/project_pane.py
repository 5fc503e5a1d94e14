"""The left pane: projects, their drawing sets (import by drag and drop or dialog), the sheets of a set
(thumbnail, number, title; editable), and the project's comparisons."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.services import projects
from buildtrace_desktop.ui.dialogs import CompareDialog, ImportSetDialog
from buildtrace_desktop.ui.errors import guarded

ROLE_ID = Qt.ItemDataRole.UserRole


class ProjectPane(QWidget):
    """Emits `jobCreated(job_id)` for the runner, `comparisonChosen(comparison_id)`, `projectChanged(id)`."""

    jobCreated = Signal(int)
    comparisonChosen = Signal(int)
    projectChanged = Signal(int)
    exportRequested = Signal(int)

    def __init__(self, app, compare_settings: Callable[[], object], parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.app = app
        self._compare_settings = compare_settings
        self.import_dialog: ImportSetDialog | None = None
        self.compare_dialog: CompareDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self._filling = False
        self.setAcceptDrops(True)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self._build_projects())
        splitter.addWidget(self._build_sets())
        splitter.addWidget(self._build_sheets())
        splitter.addWidget(self._build_comparisons())
        splitter.setSizes([150, 130, 260, 140])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.refresh_projects()

    # --- building ----------------------------------------------------------------------------------
    def _group(self, title: str, body: QWidget, buttons: list[QWidget], header: QWidget | None = None) -> QGroupBox:
        box = QGroupBox(title)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(4, 4, 4, 4)
        if header is not None:
            layout.addWidget(header)
        layout.addWidget(body, 1)
        if buttons:
            row = QHBoxLayout()
            row.setSpacing(3)
            for button in buttons:
                row.addWidget(button)
            row.addStretch(1)
            layout.addLayout(row)
        return box

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setStyleSheet("padding: 3px 6px;")
        button.clicked.connect(lambda: slot())
        return button

    def _build_projects(self) -> QWidget:
        self.project_list = QListWidget()
        self.project_list.currentItemChanged.connect(lambda *_: self._project_selected())
        self.show_archived = QCheckBox("Show archived projects")
        self.show_archived.setToolTip("Show archived projects too")
        self.show_archived.toggled.connect(lambda _on: self.refresh_projects())
        self.archive_button = self._button("Archive", "Archive or restore the project", self.toggle_archive)
        return self._group("Projects (recent first)", self.project_list, [
            self._button("New…", "Create a project", self.ask_new_project),
            self._button("Rename…", "Rename the project", self.ask_rename_project),
            self.archive_button,
            self._button("Delete…", "Delete the project and its files", self.ask_delete_project),
        ], header=self.show_archived)

    def _build_sets(self) -> QWidget:
        self.set_list = QListWidget()
        self.set_list.setToolTip("Drop PDFs, images or folders here to import a drawing set")
        self.set_list.currentItemChanged.connect(lambda *_: self.refresh_sheets())
        return self._group("Drawing sets (drop files here)", self.set_list, [
            self._button("Import…", "Import a drawing set (PDFs, images, folders)", lambda: self.ask_import([])),
            self._button("Compare…", "Compare two drawing sets", self.ask_compare),
        ])

    def _build_sheets(self) -> QWidget:
        self.sheet_table = QTableWidget(0, 3)
        self.sheet_table.setHorizontalHeaderLabels(["", "Number", "Title"])
        self.sheet_table.verticalHeader().setVisible(False)
        self.sheet_table.setIconSize(QSize(64, 46))
        self.sheet_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.sheet_table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                         | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.sheet_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(0, 70)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.sheet_table.verticalHeader().setDefaultSectionSize(50)
        self.sheet_table.setToolTip("Double-click a number or title to correct it; the correction is used for matching")
        self.sheet_table.itemChanged.connect(self._sheet_edited)
        return self._group("Sheets of the set", self.sheet_table, [])

    def _build_comparisons(self) -> QWidget:
        self.comparison_list = QListWidget()
        self.comparison_list.setWordWrap(True)
        self.comparison_list.currentItemChanged.connect(lambda *_: self._comparison_selected())
        return self._group("Comparisons", self.comparison_list, [
            self._button("Export…", "Export the report PDF, the CSV with review status and overlays",
                         lambda: self.current_comparison_id() and self.exportRequested.emit(self.current_comparison_id())),
        ])

    # --- current selection -------------------------------------------------------------------------
    def current_project_id(self) -> int | None:
        item = self.project_list.currentItem()
        return item.data(ROLE_ID) if item else None

    def current_set_id(self) -> int | None:
        item = self.set_list.currentItem()
        return item.data(ROLE_ID) if item else None

    def current_comparison_id(self) -> int | None:
        item = self.comparison_list.currentItem()
        return item.data(ROLE_ID) if item else None

    def select_project(self, project_id: int) -> None:
        _select(self.project_list, project_id)

    def select_comparison(self, comparison_id: int) -> None:
        _select(self.comparison_list, comparison_id)

    # --- refreshing --------------------------------------------------------------------------------
    def refresh_projects(self) -> None:
        current = self.current_project_id()
        self.project_list.blockSignals(True)
        self.project_list.clear()
        for project in projects.list_projects(self.app, include_archived=self.show_archived.isChecked()):
            text = project.name + ("  (archived)" if project.archived else "")
            item = QListWidgetItem(text)
            item.setData(ROLE_ID, project.id)
            self.project_list.addItem(item)
        self.project_list.blockSignals(False)
        if current is not None and _select(self.project_list, current):
            self.refresh_project()
        elif self.project_list.count():
            self.project_list.setCurrentRow(0)  # the most recently used project
        else:
            self.refresh_project()

    def _project_selected(self) -> None:
        self.refresh_project()
        project_id = self.current_project_id()
        if project_id is not None:
            self.projectChanged.emit(project_id)

    def refresh_project(self) -> None:
        self.refresh_sets()
        self.refresh_comparisons()

    def refresh_sets(self) -> None:
        current = self.current_set_id()
        self.set_list.blockSignals(True)
        self.set_list.clear()
        project_id = self.current_project_id()
        for drawing_set in projects.list_sets(self.app, project_id) if project_id else []:
            count = len(projects.list_sheets(self.app, drawing_set.id))
            date = f" · {drawing_set.issue_date:%Y-%m-%d}" if drawing_set.issue_date else ""
            item = QListWidgetItem(f"{drawing_set.label}{date} · {count} sheets")
            item.setData(ROLE_ID, drawing_set.id)
            self.set_list.addItem(item)
        self.set_list.blockSignals(False)
        if not (current is not None and _select(self.set_list, current)) and self.set_list.count():
            self.set_list.setCurrentRow(self.set_list.count() - 1)
        self.refresh_sheets()

    def refresh_sheets(self) -> None:
        set_id = self.current_set_id()
        sheets = projects.list_sheets(self.app, set_id) if set_id else []
        self._filling = True
        self.sheet_table.setRowCount(len(sheets))
        for row, sheet in enumerate(sheets):
            thumb = QTableWidgetItem()
            thumb.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            if sheet.thumbnail_json:
                thumb.setIcon(QIcon(_thumbnail_pixmap(sheet.thumbnail_json)))
            thumb.setData(ROLE_ID, sheet.id)
            number = QTableWidgetItem(sheet.effective_number or "")
            title = QTableWidgetItem(sheet.effective_title or ("reading…" if sheet.read_at is None else ""))
            for item in (number, title):
                item.setData(ROLE_ID, sheet.id)
                if sheet.user_number or sheet.user_title:
                    item.setToolTip("Corrected by you")
            self.sheet_table.setItem(row, 0, thumb)
            self.sheet_table.setItem(row, 1, number)
            self.sheet_table.setItem(row, 2, title)
        self._filling = False

    def refresh_comparisons(self) -> None:
        current = self.current_comparison_id()
        self.comparison_list.blockSignals(True)
        self.comparison_list.clear()
        project_id = self.current_project_id()
        labels = {s.id: s.label for s in projects.list_sets(self.app, project_id)} if project_id else {}
        for comparison in projects.list_comparisons(self.app, project_id) if project_id else []:
            changes = sum(projects.count_changes(self.app, comparison.id).values())
            old, new = labels.get(comparison.old_set_id, "?"), labels.get(comparison.new_set_id, "?")
            item = QListWidgetItem(f"{old} → {new} · {comparison.status} · {changes} changes")
            item.setData(ROLE_ID, comparison.id)
            self.comparison_list.addItem(item)
        self.comparison_list.blockSignals(False)
        if current is not None:
            _select(self.comparison_list, current)

    def _comparison_selected(self) -> None:
        comparison_id = self.current_comparison_id()
        if comparison_id is not None:
            self.comparisonChosen.emit(comparison_id)

    # --- projects ----------------------------------------------------------------------------------
    @guarded
    def ask_new_project(self) -> None:
        name, ok = QInputDialog.getText(self, "New project", "Project name:")
        if ok:
            self.create_project(name)

    @guarded
    def create_project(self, name: str) -> int:
        project = projects.create_project(self.app, name)
        self.refresh_projects()
        self.select_project(project.id)
        return project.id

    @guarded
    def ask_rename_project(self) -> None:
        project_id = self.current_project_id()
        if project_id is None:
            return
        old = projects.get_project(self.app, project_id).name
        name, ok = QInputDialog.getText(self, "Rename project", "New name:", QLineEdit.EchoMode.Normal, old)
        if ok:
            projects.rename_project(self.app, project_id, name)
            self.refresh_projects()

    @guarded
    def toggle_archive(self) -> None:
        project_id = self.current_project_id()
        if project_id is not None:
            project = projects.get_project(self.app, project_id)
            projects.archive_project(self.app, project_id, not project.archived)
            self.refresh_projects()

    @guarded
    def ask_delete_project(self) -> None:
        project_id = self.current_project_id()
        if project_id is None:
            return
        name = projects.get_project(self.app, project_id).name
        box = QMessageBox(QMessageBox.Icon.Question, "Delete project",
                          f"Delete the project “{name}” with its drawing sets, comparisons and review notes?\n"
                          "Stored files that no other project uses are removed too. This cannot be undone.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        box.accepted.connect(lambda: self.delete_project(project_id))
        self.confirm_box = box
        box.open()

    @guarded
    def delete_project(self, project_id: int) -> None:
        projects.delete_project(self.app, project_id)
        self.refresh_projects()

    # --- sets --------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.ask_import(paths)

    @guarded
    def ask_import(self, paths: list[str]) -> None:
        if self.current_project_id() is None:
            raise BadInputError("Create or choose a project first, then import its drawing sets.")
        dialog = ImportSetDialog(paths, self)
        dialog.accepted.connect(lambda: self.import_set(dialog.paths, dialog.label, dialog.issue_date))
        self.import_dialog = dialog
        dialog.open()

    @guarded
    def import_set(self, paths: list[str], label: str, issue_date=None) -> int:  # noqa: ANN001
        project_id = self.current_project_id()
        if project_id is None:
            raise BadInputError("Create or choose a project first, then import its drawing sets.")
        imported = projects.import_drawing_set(self.app, project_id, paths, label, issue_date,
                                               settings=self._compare_settings())
        self.refresh_sets()
        _select(self.set_list, imported.set_id)
        self.refresh_sheets()
        if imported.job_id is not None:
            self.jobCreated.emit(imported.job_id)
        return imported.set_id

    @guarded
    def _sheet_edited(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() == 0:
            return
        row = item.row()
        sheet_id = item.data(ROLE_ID)
        number = self.sheet_table.item(row, 1).text()
        title = self.sheet_table.item(row, 2).text()
        projects.correct_sheet(self.app, sheet_id, number, title)
        self.refresh_sheets()

    # --- comparisons -------------------------------------------------------------------------------
    @guarded
    def ask_compare(self) -> None:
        project_id = self.current_project_id()
        sets = projects.list_sets(self.app, project_id) if project_id else []
        if len(sets) < 2:
            raise BadInputError("A comparison needs two drawing sets: import the old and the new revision first.")
        dialog = CompareDialog([(s.id, s.label) for s in sets], self)
        dialog.accepted.connect(lambda: self.compare(dialog.old_set_id, dialog.new_set_id))
        self.compare_dialog = dialog
        dialog.open()

    @guarded
    def compare(self, old_set_id: int, new_set_id: int) -> int:
        project_id = self.current_project_id()
        created = projects.create_comparison(self.app, project_id, old_set_id, new_set_id, self._compare_settings())
        self.refresh_comparisons()
        self.select_comparison(created.comparison_id)
        self.jobCreated.emit(created.job_id)
        return created.comparison_id


def _select(widget: QListWidget, row_id: int) -> bool:
    for i in range(widget.count()):
        if widget.item(i).data(ROLE_ID) == row_id:
            widget.setCurrentRow(i)
            return True
    return False


def _thumbnail_pixmap(rows: list[list[int]]) -> QPixmap:
    gray = np.ascontiguousarray(np.array(rows, dtype=np.uint8))
    image = QImage(gray.data, gray.shape[1], gray.shape[0], gray.strides[0], QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(image.copy())
