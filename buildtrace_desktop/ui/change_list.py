"""The change list beside the viewer: kind, location, changed text, review status and note.

`ChangeTableModel` is a thin Qt adapter over the Qt-free `ChangeListModel`; `ChangeListPanel` adds the
review editor, which saves through a callback (services.set_review) at once."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from buildtrace_desktop.viewer.changes import REVIEW_STATUSES, REVIEW_TITLES, ChangeItem, ChangeListModel

COLUMNS = ("#", "Kind", "Text", "Location", "Review")
KIND_COLOURS = {"added": "#1b7f3b", "removed": "#b3261e", "modified": "#8a5a00"}
STATUS_COLOURS = {"accepted": "#e6f4ea", "rejected": "#fce8e6", "needs_rfi": "#fef7e0"}

Index = QModelIndex | QPersistentModelIndex
SaveReview = Callable[[int, str, str], None]  # change_id, status, note


class ChangeTableModel(QAbstractTableModel):
    def __init__(self, changes: ChangeListModel) -> None:
        super().__init__()
        self.changes = changes
        events = changes.events
        events.reset.connect(self._on_reset)
        events.inserted.connect(self._on_inserted)
        events.removed.connect(self._on_removed)
        events.changed.connect(self._on_changed)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.changes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item = self.changes[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell_text(index.row(), item, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{item.kind} at {item.location}"
            return f"{tip}\n{item.text}" + (f"\nNote: {item.note}" if item.note else "")
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QBrush(QColor(KIND_COLOURS.get(item.kind, "#000")))
        if role == Qt.ItemDataRole.BackgroundRole and item.status in STATUS_COLOURS:
            return QBrush(QColor(STATUS_COLOURS[item.status]))
        return None

    def _on_reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def _on_inserted(self, index: int, _item: ChangeItem) -> None:
        self.beginInsertRows(QModelIndex(), index, index)
        self.endInsertRows()

    def _on_removed(self, index: int, _item: ChangeItem) -> None:
        self.beginRemoveRows(QModelIndex(), index, index)
        self.endRemoveRows()

    def _on_changed(self, index: int, _item: ChangeItem) -> None:
        self.dataChanged.emit(self.index(index, 0), self.index(index, len(COLUMNS) - 1))

    def disconnect_model(self) -> None:
        events = self.changes.events
        events.reset.disconnect(self._on_reset)
        events.inserted.disconnect(self._on_inserted)
        events.removed.disconnect(self._on_removed)
        events.changed.disconnect(self._on_changed)


def _cell_text(row: int, item: ChangeItem, column: int) -> str:
    if column == 0:
        return str(row + 1)
    if column == 1:
        return item.kind
    if column == 2:
        return item.text
    if column == 3:
        return item.where
    review = REVIEW_TITLES[item.status]
    return f"{review}: {item.note}" if item.note else review


class ChangeListPanel(QWidget):
    """The table plus a review editor for the current change. Emits `reviewSaved(change_id, status)`."""

    reviewSaved = Signal(int, str)
    saveFailed = Signal(str)

    def __init__(self, changes: ChangeListModel, save_review: SaveReview | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.changes = changes
        self.save_review = save_review
        self.table_model = ChangeTableModel(changes)
        self.title = QLabel("Changes")
        self.title.setStyleSheet("font-weight: bold;")
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 28), (1, 72), (3, 150), (4, 100)):
            header.resizeSection(column, width)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.selectionModel().currentRowChanged.connect(self._row_chosen)
        self.table.clicked.connect(lambda index: self._row_chosen(index, QModelIndex()))
        self.status_combo = QComboBox()
        for status in REVIEW_STATUSES:
            self.status_combo.addItem(REVIEW_TITLES[status], status)
        self.status_combo.setToolTip("Review status of the selected change (saved at once)")
        self.status_combo.activated.connect(lambda _i: self._save())
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Note (saved when you press Enter or leave the field)")
        self.note_edit.editingFinished.connect(self._save_if_note_changed)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setStyleSheet("color: #333; padding: 2px;")
        editor = QHBoxLayout()
        editor.addWidget(QLabel("Review:"))
        editor.addWidget(self.status_combo)
        editor.addWidget(self.note_edit, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(editor)
        self._shown: ChangeItem | None = None  # the change the review editor shows
        changes.events.current.connect(self._on_current)
        changes.events.changed.connect(lambda i, _item: self._on_current(i) if i == changes.current else None)
        changes.events.reset.connect(self._on_reset)
        self._on_current(-1)

    def _on_reset(self) -> None:
        count = len(self.changes)
        self._flush_note()
        self._on_current(self.changes.current)
        self.title.setText(f"Changes ({count})" if count else "Changes: none on this sheet")

    def _row_chosen(self, index: QModelIndex, _previous: QModelIndex) -> None:
        if index.isValid() and index.row() != self.changes.current:
            self.changes.current = index.row()

    def _flush_note(self) -> None:
        """Save a note typed but not yet confirmed before the editor shows another change, so moving on
        (N / P, a click, another sheet) never loses it."""
        shown = self._shown
        note = self.note_edit.text().strip()
        if shown is None or note == shown.note or self.save_review is None:
            return
        self._shown = None
        try:
            self.save_review(shown.change_id, shown.status, note)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.saveFailed.emit(str(exc))
            return
        index = self.changes.index_of(shown.change_id)
        if index >= 0:
            self.changes.update(index, note=note)

    def _on_current(self, index: int) -> None:
        if self._shown is not None and (index < 0 or index >= len(self.changes)
                                        or self.changes[index].change_id != self._shown.change_id):
            self._flush_note()
        has = 0 <= index < len(self.changes)
        self.status_combo.setEnabled(has)
        self.note_edit.setEnabled(has)
        if not has:
            self._shown = None
            self.table.clearSelection()
            self.note_edit.clear()
            self.detail.setText("Click a change (or press N / P) to zoom to it." if len(self.changes) else "")
            return
        item = self.changes[index]
        self._shown = item
        text = f": {item.text}" if item.text else ""
        note = f" · note: {item.note}" if item.note else ""
        self.detail.setText(f"<b>{index + 1}. {item.kind}</b> at {item.location}{text}"
                            f" · <i>{REVIEW_TITLES[item.status]}</i>{note}")
        if self.table.currentIndex().row() != index:
            self.table.selectRow(index)
        self.table.scrollTo(self.table_model.index(index, 0))
        self.status_combo.setCurrentIndex(self.status_combo.findData(item.status))
        if self.note_edit.text() != item.note:
            self.note_edit.setText(item.note)

    def set_status(self, status: str) -> None:
        """Set the current change's review status (as the combo box does) and save it."""
        self.status_combo.setCurrentIndex(self.status_combo.findData(status))
        self._save()

    def _save_if_note_changed(self) -> None:
        index = self.changes.current
        if 0 <= index < len(self.changes) and self.note_edit.text().strip() != self.changes[index].note:
            self._save()

    def _save(self) -> None:
        index = self.changes.current
        if not 0 <= index < len(self.changes):
            return
        item = self.changes[index]
        status = self.status_combo.currentData()
        note = self.note_edit.text().strip()
        if self.save_review is not None:
            try:
                self.save_review(item.change_id, status, note)
            except Exception as exc:  # noqa: BLE001 - shown to the user; the list keeps the stored value
                self.saveFailed.emit(str(exc))
                self._on_current(index)
                return
        self.changes.update(index, status=status, note=note)
        self.reviewSaved.emit(item.change_id, status)
