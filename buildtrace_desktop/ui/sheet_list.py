"""The sheet list of a comparison: matched / added / removed / renumbered sheets and changes per sheet."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ("Sheet", "Title", "Status", "Changes")
STATUS_COLOURS = {"added": "#1b7f3b", "removed": "#b3261e", "renumbered": "#8a5a00", "failed": "#b3261e"}


@dataclass(frozen=True)
class SheetRow:
    pair_id: int
    number: str
    title: str
    status: str  # matched | added | removed | renumbered (matched with a new number)
    changes: int
    warning: str = ""


class SheetListPanel(QWidget):
    """Emits `pairChosen(pair_id)` when the user picks a sheet."""

    pairChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[SheetRow] = []
        self.title = QLabel("Sheets")
        self.title.setStyleSheet("font-weight: bold;")
        self.changed_only = QCheckBox("Changed only")
        self.changed_only.setToolTip("Hide matched sheets without changes")
        self.changed_only.toggled.connect(lambda _on: self._fill())
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.changed_only)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.currentCellChanged.connect(self._chosen)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def set_rows(self, rows: list[SheetRow], heading: str = "Sheets") -> None:
        self._rows = rows
        changed = sum(1 for r in rows if r.changes or r.status != "matched")
        self.title.setText(f"{heading}: {len(rows)} sheets, {changed} changed" if rows else heading)
        self._fill()

    def visible_rows(self) -> list[SheetRow]:
        if not self.changed_only.isChecked():
            return list(self._rows)
        return [r for r in self._rows if r.changes or r.status != "matched"]

    def select_pair(self, pair_id: int) -> None:
        for i, row in enumerate(self.visible_rows()):
            if row.pair_id == pair_id:
                self.table.setCurrentCell(i, 0)
                return

    def _fill(self) -> None:
        current = self.current_pair_id()
        rows = self.visible_rows()
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            cells = (row.number, row.title, row.status, str(row.changes))
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, row.pair_id)
                if row.warning:
                    item.setToolTip(row.warning)
                if j == 2 and row.status in STATUS_COLOURS:
                    item.setForeground(QBrush(QColor(STATUS_COLOURS[row.status])))
                if j == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self.table.blockSignals(False)
        if current is not None:
            self.select_pair(current)

    def current_pair_id(self) -> int | None:
        item = self.table.item(self.table.currentRow(), 0) if self.table.currentRow() >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _chosen(self, row: int, _col: int, _prev_row: int, _prev_col: int) -> None:
        item = self.table.item(row, 0) if row >= 0 else None
        if item is not None:
            self.pairChosen.emit(item.data(Qt.ItemDataRole.UserRole))
