"""The change list as a tree: review groups at the top level, their changes under them.

`ChangeTreeModel` is a thin Qt adapter over the Qt-free `ChangeListModel`: its top-level rows are the
list's units (a group of two or more changes, or one change shown as just that change), a group's
changes are its children. It keeps no state of its own beyond what the list says."""
from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTreeView

from buildtrace_desktop.viewer.changes import REVIEW_TITLES, ChangeItem, ChangeListModel, where_words
from buildtrace_desktop.viewer.groups import ReviewUnit

COLUMNS = ("#", "What", "Text", "Where", "Review")
KIND_COLOURS = {"added": "#1b7f3b", "removed": "#b3261e", "modified": "#8a5a00"}
STATUS_COLOURS = {"accepted": "#e6f4ea", "rejected": "#fce8e6", "needs_rfi": "#fef7e0"}
GROUP_BACKGROUND = "#f1f3f4"

Index = QModelIndex | QPersistentModelIndex
_TOP = 0  # internal id of a top-level row; a change under a group has its group's row + 1


class ChangeTreeModel(QAbstractItemModel):
    def __init__(self, changes: ChangeListModel) -> None:
        super().__init__()
        self.changes = changes
        events = changes.events
        events.reset.connect(self._on_reset)
        events.inserted.connect(self._on_inserted)
        events.removed.connect(self._on_removed)
        events.changed.connect(self._on_changed)
        self._bold = QFont()
        self._bold.setBold(True)

    # --- structure ---------------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        return self.createIndex(row, column, parent.row() + 1 if parent.isValid() else _TOP)

    def parent(self, index: Index | None = None) -> QModelIndex | QObject:  # type: ignore[override]
        if index is None:  # QObject.parent()
            return super().parent()
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, _TOP)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        units = self.changes.units
        if not parent.isValid():
            return len(units)
        if parent.internalId() != _TOP or parent.column() != 0:
            return 0
        unit = units[parent.row()]
        return 0 if unit.single else len(unit.members)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    # --- what a row is -----------------------------------------------------------------------------
    def change_at(self, index: Index) -> int:
        """The change a row shows (its index in the list), -1 for a group row."""
        if not index.isValid():
            return -1
        units = self.changes.units
        if index.internalId() != _TOP:
            return units[index.internalId() - 1].members[index.row()]
        unit = units[index.row()]
        return unit.members[0] if unit.single else -1

    def group_at(self, index: Index) -> int:
        """The group a group row shows (its index in the list's groups), -1 for a change row."""
        if not index.isValid() or index.internalId() != _TOP:
            return -1
        unit = self.changes.units[index.row()]
        return -1 if unit.single else unit.group

    def index_of_change(self, change: int, column: int = 0) -> QModelIndex:
        unit = self.changes.unit_of(change)
        if unit < 0:
            return QModelIndex()
        members = self.changes.units[unit].members
        if len(members) == 1:
            return self.index(unit, column)
        return self.index(members.index(change), column, self.index(unit, 0))

    def index_of_group(self, group: int, column: int = 0) -> QModelIndex:
        units = self.changes.units
        row = next((u for u, unit in enumerate(units) if unit.group == group and not unit.single), -1)
        return self.index(row, column) if row >= 0 else QModelIndex()

    # --- data --------------------------------------------------------------------------------------
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        change = self.change_at(index)
        if change >= 0:
            return self._change_data(index, change, role)
        return self._group_data(self.changes.units[index.row()], index.column(), role)

    def _change_data(self, index: Index, change: int, role: int):
        item = self.changes[change]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._change_cell(change, item, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{item.title} ({item.kind}) at {item.location}"
            group = self._group_label_of(change)
            tip += f"\nIn: {group}" if group and index.internalId() != _TOP else ""
            tip += f"\n{item.text}" if item.text else ""
            return tip + (f"\nNote: {item.note}" if item.note else "")
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QBrush(QColor(KIND_COLOURS.get(item.kind, "#000")))
        if role == Qt.ItemDataRole.BackgroundRole and item.status in STATUS_COLOURS:
            return QBrush(QColor(STATUS_COLOURS[item.status]))
        return None

    def _change_cell(self, change: int, item: ChangeItem, column: int) -> str:
        if column == 0:
            return str(change + 1)
        if column == 1:
            # a revision cloud alone in its group says what its group says ("nothing changed inside")
            unit = self.changes.units[self.changes.unit_of(change)]
            alone_cloud = unit.single and self.changes.group_is_cloud(unit.group)
            return self.changes.groups[unit.group].label if alone_cloud else item.title
        if column == 2:
            return item.text
        if column == 3:
            return item.region
        review = REVIEW_TITLES[item.status]
        return f"{review}: {item.note}" if item.note else review

    def _group_data(self, unit: ReviewUnit, column: int, role: int):
        group = self.changes.groups[unit.group]
        count, reviewed = len(unit.members), self.changes.reviewed_count(unit.members)
        if role == Qt.ItemDataRole.DisplayRole:
            return {0: _span(unit), 1: group.label, 4: _progress(reviewed, count)}.get(column, "")
        if role == Qt.ItemDataRole.ToolTipRole:
            first, last = unit.members[0] + 1, unit.members[-1] + 1
            where = where_words(group.bbox, self.changes[unit.members[0]].page_size)
            texts = [t for t in (self.changes[i].text for i in unit.members) if t]
            return "\n".join([
                group.label, f"{count} changes (#{first}–#{last}) at {where}; {reviewed} reviewed", *texts[:8],
                "Select it to see the whole group; expand it (or press N) to review its changes one by one."])
        if role == Qt.ItemDataRole.FontRole and column == 0:
            return self._bold
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(QColor(GROUP_BACKGROUND))
        return None

    def _group_label_of(self, change: int) -> str:
        unit = self.changes.units[self.changes.unit_of(change)]
        return self.changes.groups[unit.group].label if unit.group >= 0 else ""

    # --- following the list ------------------------------------------------------------------------
    def _on_reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    # A change inserted or removed can move every unit after it: the tree is rebuilt (lists are short).
    def _on_inserted(self, _index: int, _item: ChangeItem) -> None:
        self._on_reset()

    def _on_removed(self, _index: int, _item: ChangeItem) -> None:
        self._on_reset()

    def _on_changed(self, index: int, _item: ChangeItem) -> None:
        row = self.index_of_change(index)
        if not row.isValid():
            return
        last = len(COLUMNS) - 1
        self.dataChanged.emit(row, row.siblingAtColumn(last))
        parent = row.parent()
        if parent.isValid():  # the group's progress
            self.dataChanged.emit(parent, parent.siblingAtColumn(last))

    def disconnect_model(self) -> None:
        events = self.changes.events
        events.reset.disconnect(self._on_reset)
        events.inserted.disconnect(self._on_inserted)
        events.removed.disconnect(self._on_removed)
        events.changed.disconnect(self._on_changed)


def _span(unit: ReviewUnit) -> str:
    """The numbers of a group's changes, as the viewer's boxes show them: '12–15' (or '3, 7' apart)."""
    first, last = unit.members[0] + 1, unit.members[-1] + 1
    if last - first + 1 == len(unit.members):
        return f"{first}–{last}"
    return ", ".join(str(i + 1) for i in unit.members)


def _progress(reviewed: int, count: int) -> str:
    return f"{reviewed}/{count} reviewed" + (" ✓" if reviewed == count else "")


class GroupRowDelegate(QStyledItemDelegate):
    """Paints a group row, which spans the tree's width so that its label is not cut: its changes'
    numbers under "#", the label across What, Text and Where, the review progress under "Review"."""

    def __init__(self, tree: QTreeView) -> None:
        super().__init__(tree)
        self.tree = tree

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        model = index.model()
        if not isinstance(model, ChangeTreeModel) or model.group_at(index) < 0:
            super().paint(painter, option, index)
            return
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        style = background.widget.style() if background.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, background.widget)
        header = self.tree.header()
        rect = option.rect
        label_x, review_x = header.sectionViewportPosition(1), header.sectionViewportPosition(4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setPen((option.palette.highlightedText() if selected else option.palette.text()).color())
        texts = [str(index.siblingAtColumn(column).data() or "") for column in (0, 1, 4)]
        fonts = [index.siblingAtColumn(column).data(Qt.ItemDataRole.FontRole) or option.font for column in (0, 1, 4)]
        label_end = review_x
        label_fits = label_x + QFontMetrics(fonts[1]).horizontalAdvance(texts[1]) + 8 <= review_x
        if not label_fits or review_x + QFontMetrics(fonts[2]).horizontalAdvance(texts[2]) + 10 > rect.right():
            texts[2] = texts[2].replace(" reviewed", "")  # "2/5" under "Review" says it
        if not label_fits:  # a label longer than What, Text and Where runs on up to the progress
            label_end = rect.right() - QFontMetrics(fonts[2]).horizontalAdvance(texts[2]) - 10
        cells = ((rect.left(), label_x), (label_x, label_end), (label_end, rect.right()))
        for text, font, (left, right) in zip(texts, fonts, cells, strict=True):
            painter.setFont(font)
            cell = QRect(left + 4, rect.top(), max(0, right - left - 6), rect.height())
            elided = painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, cell.width())
            painter.drawText(cell, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), elided)
        painter.restore()
