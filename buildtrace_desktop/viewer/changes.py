"""The change list of one sheet pair: items that announce inserted / removed / changed, and a cursor.

A Qt item model that shows it is a thin adapter listening to these signals.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.viewer.signals import Signal

REVIEW_STATUSES = ("open", "accepted", "rejected", "needs_rfi")
REVIEW_TITLES = {"open": "Open", "accepted": "Accepted", "rejected": "Rejected", "needs_rfi": "Needs RFI"}

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class ChangeItem:
    """One change as the viewer shows it. `bbox` is in NEW-page points, origin top-left."""

    change_id: int
    kind: str  # added | removed | modified
    bbox: Box
    sheet: str = ""  # sheet number of the pair, for the location text
    page_size: tuple[float, float] = (0.0, 0.0)  # NEW page width, height in points
    text_removed: tuple[str, ...] = field(default_factory=tuple)
    text_added: tuple[str, ...] = field(default_factory=tuple)
    status: str = "open"
    note: str = ""

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.bbox
        return (x0 + x1) / 2, (y0 + y1) / 2

    @property
    def where(self) -> str:
        """Where on the sheet, in words and inches from the top-left corner: 'upper left (3.1, 2.0 in)'."""
        cx, cy = self.centre
        return f"{region_words(cx, cy, self.page_size)} ({cx / 72:.1f}, {cy / 72:.1f} in)".strip()

    @property
    def location(self) -> str:
        """`where`, prefixed by the sheet number when known."""
        return f"{self.sheet} {self.where}" if self.sheet else self.where

    @property
    def text(self) -> str:
        """The changed text in one line: 'old → new', '+ added', '− removed', or ''."""
        removed = " ".join(self.text_removed)
        added = " ".join(self.text_added)
        if removed and added:
            return f"{removed} → {added}"
        if added:
            return f"+ {added}"
        if removed:
            return f"− {removed}"
        return ""


def region_words(x: float, y: float, page_size: tuple[float, float]) -> str:
    """'upper left', 'centre', 'lower right' … for a point on a page of `page_size` points."""
    width, height = page_size
    if width <= 0 or height <= 0:
        return ""
    col = ("left", "centre", "right")[min(2, int(3 * x / width))] if x >= 0 else "left"
    row = ("upper", "middle", "lower")[min(2, int(3 * y / height))] if y >= 0 else "upper"
    if row == "middle" and col == "centre":
        return "centre"
    if row == "middle":
        return f"middle {col}"
    return f"{row} {col}"


def check_status(status: str) -> str:
    if status not in REVIEW_STATUSES:
        raise BadInputError(f"Unknown review status {status!r}; use one of {', '.join(REVIEW_STATUSES)}.")
    return status


class ChangeListModel:
    """Ordered changes of one pair. Signals: `inserted(index, item)`, `removed(index, item)`,
    `changed(index, item)`, `reset()`, `current(index)` (-1 for none)."""

    def __init__(self, items: list[ChangeItem] | None = None) -> None:
        self.events = _ChangeEvents()
        self._items: list[ChangeItem] = list(items or [])
        self._current = -1

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> ChangeItem:
        return self._items[index]

    def __iter__(self):
        return iter(list(self._items))

    def reset(self, items: list[ChangeItem]) -> None:
        self._items = list(items)
        self._current = -1
        self.events.reset.emit()
        self.events.current.emit(-1)

    def insert(self, index: int, item: ChangeItem) -> None:
        index = max(0, min(index, len(self._items)))
        self._items.insert(index, item)
        if self._current >= index:
            self._current += 1
        self.events.inserted.emit(index, item)

    def append(self, item: ChangeItem) -> None:
        self.insert(len(self._items), item)

    def remove(self, index: int) -> ChangeItem:
        item = self._items.pop(index)
        if self._current == index:
            self._current = -1
            self.events.current.emit(-1)
        elif self._current > index:
            self._current -= 1
        self.events.removed.emit(index, item)
        return item

    def index_of(self, change_id: int) -> int:
        for i, item in enumerate(self._items):
            if item.change_id == change_id:
                return i
        return -1

    def update(self, index: int, **fields: object) -> ChangeItem:
        """Replace fields of one item (status is validated) and announce it."""
        if "status" in fields:
            check_status(str(fields["status"]))
        item = replace(self._items[index], **fields)
        self._items[index] = item
        self.events.changed.emit(index, item)
        return item

    @property
    def current(self) -> int:
        return self._current

    @current.setter
    def current(self, index: int) -> None:
        if not -1 <= index < len(self._items):
            raise IndexError(f"change index {index} out of range 0..{len(self._items) - 1}")
        if index != self._current:
            self._current = index
            self.events.current.emit(index)

    def next(self) -> int:
        """Move to the next change (wrapping); returns the new index, -1 when the list is empty."""
        if self._items:
            self.current = (self._current + 1) % len(self._items)
        return self._current

    def previous(self) -> int:
        if self._items:
            self.current = (self._current - 1) % len(self._items) if self._current >= 0 else len(self._items) - 1
        return self._current


class _ChangeEvents:
    def __init__(self) -> None:
        self.inserted = Signal()
        self.removed = Signal()
        self.changed = Signal()
        self.reset = Signal()
        self.current = Signal()
