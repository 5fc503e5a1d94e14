"""The change list beside the viewer: the sheet's review groups with their changes (what each is, its
changed text, where, its review status and note), and the review editor.

`ChangeTreeModel` (change_tree.py) is a thin Qt adapter over the Qt-free `ChangeListModel`; the panel
adds the review editor, which saves through a callback (services.set_review) at once."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QFontMetrics, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from buildtrace_desktop.ui.change_tree import ChangeTreeModel, GroupRowDelegate
from buildtrace_desktop.viewer.changes import REVIEW_STATUSES, REVIEW_TITLES, ChangeItem, ChangeListModel

SaveReview = Callable[[int, str, str], None]  # change_id, status, note
EXPANDED_UP_TO = 25  # changes on a sheet; with more, the groups start collapsed (one line each)
COLUMN_WIDTHS = ((0, 48), (1, 130), (3, 84), (4, 72))  # pixels, at first; the Text column takes the rest
WHAT_WIDTH_MAX = 140  # pixels: What is sized to its longest entry up to this; the changed text needs room


class ChangeListPanel(QWidget):
    """The tree of groups and changes plus a review editor for the current change.
    Emits `reviewSaved(change_id, status)`."""

    reviewSaved = Signal(int, str)
    saveFailed = Signal(str)

    def __init__(self, changes: ChangeListModel, save_review: SaveReview | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.changes = changes
        self.save_review = save_review
        self.tree_model = ChangeTreeModel(changes)
        self.title = QLabel("Changes")
        self.title.setStyleSheet("font-weight: bold;")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #444;")
        self.tree = self._build_tree()
        self._build_actions()
        self._build_editor()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._title_row())
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.detail)
        layout.addLayout(self._editor_row())
        self._shown: ChangeItem | None = None  # the change the review editor shows
        changes.events.current.connect(self._on_current)
        changes.events.current_group.connect(self._on_current_group)
        changes.events.changed.connect(self._on_changed)
        changes.events.reset.connect(self._on_reset)
        self.tree_model.modelReset.connect(self._shape_tree)
        self._on_current(-1)
        self._enable_group_actions()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop listening to the list (it may outlive this panel): only this panel's own listeners."""
        events = self.changes.events
        events.current.disconnect(self._on_current)
        events.current_group.disconnect(self._on_current_group)
        events.changed.disconnect(self._on_changed)
        events.reset.disconnect(self._on_reset)
        self.tree_model.disconnect_model()
        super().closeEvent(event)

    # --- layout ------------------------------------------------------------------------------------
    def _build_tree(self) -> QTreeView:
        tree = QTreeView()
        tree.setModel(self.tree_model)
        tree.setItemDelegateForColumn(0, GroupRowDelegate(tree))
        tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        tree.setUniformRowHeights(True)
        tree.setAllColumnsShowFocus(True)
        tree.setIndentation(14)
        tree.setWordWrap(False)
        tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for column, width in COLUMN_WIDTHS:
            header.resizeSection(column, width)
        tree.selectionModel().currentChanged.connect(self._row_chosen)
        tree.clicked.connect(lambda index: self._row_chosen(index, QModelIndex()))
        return tree

    def _build_actions(self) -> None:
        """Group navigation: Shift+N / Shift+P beside the viewer's N / P (the main window lists them in
        its View menu, which keeps the keys working while another tab is shown)."""
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, keys, slot in (
            ("previous_group", "Previous group", "Shift+P", self.changes.previous_group),
            ("next_group", "Next group", "Shift+N", self.changes.next_group),
        ):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setToolTip(f"{text} ({keys}): the first change of the {text.split()[0].lower()} group")
            action.triggered.connect(lambda _=False, go=slot: go())
            self.addAction(action)
            self.actions_by_name[name] = action

    def _title_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.title, 1)
        for name, arrow in (("previous_group", Qt.ArrowType.UpArrow), ("next_group", Qt.ArrowType.DownArrow)):
            button = QToolButton()
            button.setDefaultAction(self.actions_by_name[name])
            button.setArrowType(arrow)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setAutoRaise(True)
            row.addWidget(button)
        return row

    def _build_editor(self) -> None:
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

    def _editor_row(self) -> QHBoxLayout:
        editor = QHBoxLayout()
        editor.addWidget(QLabel("Review:"))
        editor.addWidget(self.status_combo)
        editor.addWidget(self.note_edit, 1)
        return editor

    def _shape_tree(self) -> None:
        """After the tree is rebuilt: group rows span the width, groups open on a short list, and the
        current change or group is selected again."""
        units = self.changes.units
        self.tree.setRootIsDecorated(any(not unit.single for unit in units))
        for row, unit in enumerate(units):
            self.tree.setFirstColumnSpanned(row, QModelIndex(), not unit.single)
        self._fit_columns()
        if len(self.changes) <= EXPANDED_UP_TO:
            self.tree.expandAll()
        else:
            self.tree.collapseAll()
        if self.changes.current >= 0:
            self._select(self.tree_model.index_of_change(self.changes.current))
        elif self.changes.current_group >= 0:
            self._select(self.tree_model.index_of_group(self.changes.current_group))

    def _fit_columns(self) -> None:
        """# as wide as the longest number or range (behind the tree's indentation), What and Where as their
        longest entries within bounds; the Text column stretches over the rest."""
        model, metrics, header = self.tree_model, self.tree.fontMetrics(), self.tree.header()
        bold = self.tree.font()
        bold.setBold(True)
        indent = self.tree.indentation()
        numbers = [model.index(row, 0).data() for row in range(model.rowCount())]
        depth = 2 if self.tree.rootIsDecorated() else 1
        number_width = depth * indent + metrics.horizontalAdvance(str(len(self.changes)))
        range_width = max((QFontMetrics(bold).horizontalAdvance(n) for n in numbers if "–" in n), default=0)
        header.resizeSection(0, max(number_width, indent + range_width) + 14)
        for column, least, most in ((1, 90, WHAT_WIDTH_MAX), (3, 60, 110)):
            texts = [model.index_of_change(i, column).data() for i in range(len(self.changes))]
            widest = max((metrics.horizontalAdvance(t) for t in texts), default=0)
            header.resizeSection(column, min(most, max(least, widest + 14)))

    # --- following the list ------------------------------------------------------------------------
    def _on_reset(self) -> None:
        count = len(self.changes)
        self._flush_note()
        self._on_current(self.changes.current)
        self.title.setText("Changes")
        self.summary.setText(self.changes.summary_line() if count else "None on this sheet.")
        self._enable_group_actions()

    def _enable_group_actions(self) -> None:
        several = len(self.changes.units) > 1
        for action in self.actions_by_name.values():
            action.setEnabled(several)

    def _on_changed(self, index: int, _item: ChangeItem) -> None:
        if index == self.changes.current:
            self._on_current(index)
        elif self.changes.current_group >= 0:
            self._on_current_group(self.changes.current_group)  # its progress

    def _row_chosen(self, index: QModelIndex, _previous: QModelIndex) -> None:
        change, group = self.tree_model.change_at(index), self.tree_model.group_at(index)
        if change >= 0 and change != self.changes.current:
            self.changes.current = change
        elif group >= 0 and group != self.changes.current_group:
            self.changes.current_group = group

    def _select(self, index: QModelIndex) -> None:
        """Select a row (opening its group) and scroll to it, without choosing it again."""
        if not index.isValid():
            return
        if index.parent().isValid():
            self.tree.expand(index.parent())
        if self.tree.currentIndex().siblingAtColumn(0) != index:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.tree.selectionModel().setCurrentIndex(index, flags)
        self.tree.scrollTo(index)

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
            self.note_edit.clear()
            if self.changes.current_group < 0:  # a group picked as a whole keeps its row selected
                self.tree.clearSelection()
                self.detail.setText("Click a change or a group (or press N / P, Shift+N / Shift+P) to zoom "
                                    "to it." if len(self.changes) else "")
            return
        item = self.changes[index]
        self._shown = item
        text = f": {item.text}" if item.text else ""
        note = f" · note: {item.note}" if item.note else ""
        self.detail.setText(f"<b>{index + 1}. {item.title}</b> at {item.location}{text}"
                            f" · <i>{REVIEW_TITLES[item.status]}</i>{note}")
        self._select(self.tree_model.index_of_change(index))
        self.status_combo.setCurrentIndex(self.status_combo.findData(item.status))
        if self.note_edit.text() != item.note:
            self.note_edit.setText(item.note)

    def _on_current_group(self, group: int) -> None:
        if group < 0:
            return
        unit = next((unit for unit in self.changes.units if unit.group == group), None)
        if unit is None:
            return
        reviewed = self.changes.reviewed_count(unit.members)
        self.detail.setText(f"<b>{self.changes.groups[group].label}</b> · {len(unit.members)} changes, "
                            f"{reviewed} reviewed · press N to review them one by one")
        self._select(self.tree_model.index_of_group(group))

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
